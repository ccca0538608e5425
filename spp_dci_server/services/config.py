"""Per-endpoint settings baked into each FastAPI app (rebuilt when they change)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class EndpointConfig:
    """The settings of one DCI ``fastapi.endpoint`` record.

    The app of an endpoint is rebuilt whenever one of these fields changes
    (``fastapi.endpoint._fastapi_app_fields``), so requests never read them
    from the database.
    """

    endpoint_id: int
    root_path: str
    registry_type: str
    max_page_size: int = 100
    #: a page must start within the first N records (OFFSET reads all it skips)
    max_search_depth: int = 100_000
    #: statement timeout of each search item, in ms (0: none)
    search_timeout_ms: int = 3000
    max_items: int = 100
    max_body_bytes: int = 1024 * 1024
    #: file search (file_search.py): bytes of the file, rows on the async path
    file_max_bytes: int = 1024 * 1024
    file_max_rows: int = 1000
    clock_skew: int = 300
    token_ttl: int = 900
    #: DCI id of this endpoint (header.sender_id, kidId, token iss); None: spp_dci.sender_id
    sender_id: str | None = None
    #: keep whole request/answer payloads of sync and refused requests (async ones always)
    store_payloads: bool = False
