"""Signed DCI search envelopes of the benchmark sender, and its access token.

Import after :func:`seed.ensure_sender` (it reads the Odoo configuration, which
makes ``odoo.addons.spp_dci`` importable).
"""

import http.client
import json
import uuid
from datetime import UTC, datetime
from urllib.parse import urlencode, urlsplit

from odoo.addons.spp_dci.dci.envelope import build_envelope
from odoo.addons.spp_dci.dci.schemas.common import format_timestamp

from .seed import CLIENT_ID, PREFIX, SECRET

ROOT = "/dci/social"


def get_token(base_url):
    """An access token of the benchmark sender (client credentials)."""
    parts = urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        body = urlencode(
            {"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": SECRET}
        )
        conn.request(
            "POST",
            f"{ROOT}/oauth2/client/token",
            body=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        response = conn.getresponse()
        data = response.read()
    finally:
        conn.close()
    if response.status != 200:
        raise SystemExit(f"token request failed: HTTP {response.status} {data[:300]!r}")
    return json.loads(data)["access_token"]


def search_envelope(key, our_id, number, sender_uri=None):
    """A signed ``idtype-value`` search for ``BENCH-<number>`` (bytes, ready to POST).

    Every envelope has its own ``message_id`` and ``transaction_id``;
    ``sender_uri`` makes it an asynchronous request.
    """
    now = format_timestamp(datetime.now(UTC))
    header = {
        "version": "1.0.0",
        "message_id": str(uuid.uuid4()),
        "message_ts": now,
        "action": "search",
        "sender_id": CLIENT_ID,
        "receiver_id": our_id,
        "total_count": 1,
    }
    if sender_uri:
        header["sender_uri"] = sender_uri
    message = {
        "transaction_id": str(uuid.uuid4()),
        "search_request": [
            {
                "reference_id": "1",
                "timestamp": now,
                "search_criteria": {
                    "query_type": "idtype-value",
                    "query": {"type": "UIN", "value": f"{PREFIX}{number}"},
                },
            }
        ],
    }
    return json.dumps(build_envelope(header, message, key, CLIENT_ID)).encode()
