from typing import Any

from starlette.middleware import Middleware

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..services.config import EndpointConfig

DCI_APP = "dci"
REGISTRY_TYPES = [
    ("social", "Social Registry"),
    ("crvs", "Civil Registration and Vital Statistics"),
    ("ibr", "Integrated Beneficiary Registry"),
    ("dr", "Disability Registry"),
    ("fr", "Farmer Registry"),
]


class FastapiEndpoint(models.Model):
    """One DCI app type; each record serves one registry type at its root path."""

    _inherit = "fastapi.endpoint"

    app = fields.Selection(selection_add=[(DCI_APP, "DCI Registry")], ondelete={DCI_APP: "cascade"})
    dci_registry_type = fields.Selection(REGISTRY_TYPES, string="Registry Type")
    dci_implementation = fields.Char(
        string="Implementation",
        compute="_compute_dci_implementation",
        help="The model that answers searches.",
    )
    dci_sender_id = fields.Char(
        string="Registry Sender ID",
        help="The DCI id this endpoint answers as (header.sender_id, signature kidId, token "
        "issuer; callers' receiver_id). Empty: the system parameter spp_dci.sender_id.",
    )
    dci_max_page_size = fields.Integer(string="Maximum Page Size", default=100)
    dci_max_search_depth = fields.Integer(
        string="Paging Depth (records)",
        default=100_000,
        help="A page must start within this many records (page_number x page_size): deeper "
        "pages are refused with rjct.pagination.invalid, since each page reads every record "
        "it skips. Callers narrow their query (e.g. by last_updated) to reach the others.",
    )
    dci_search_timeout = fields.Integer(
        string="Search Time Limit (ms)",
        default=3000,
        help="PostgreSQL statement timeout of each search item (100 ms or more); a search "
        "that takes longer is answered rjct.search.too_many_records_found. 0: no limit.",
    )
    dci_max_items = fields.Integer(
        string="Maximum Items per Message",
        default=100,
        help="Largest batch (header.total_count) accepted; more: rjct.total_count.limit_exceeded.",
    )
    dci_max_body_bytes = fields.Integer(string="Maximum Request Size (bytes)", default=1024 * 1024)
    dci_file_max_bytes = fields.Integer(
        string="Maximum Search File Size (bytes)",
        default=1024 * 1024,
        help="Largest file of a bulk search by file (multipart/form-data on the search paths); "
        "larger: 413 err.request.bad.",
    )
    dci_file_max_rows = fields.Integer(
        string="Maximum Search File Rows",
        default=1000,
        help="Most identifiers in one file on /registry/search (asynchronous); more: 413 "
        "rjct.total_count.limit_exceeded. On /registry/sync/search a file holds at most "
        "Maximum Items per Message rows.",
    )
    dci_clock_skew = fields.Integer(
        string="Clock Skew (s)",
        default=300,
        help="Largest accepted difference between message_ts and our clock.",
    )
    dci_token_ttl = fields.Integer(string="Access Token Lifetime (s)", default=900)
    dci_store_payloads = fields.Boolean(
        string="Store Sync Payloads",
        help="Keep the whole request and answer of synchronous and refused requests on their "
        "transactions (debugging). Off: they keep digests, counts, codes and timings only, and "
        "a sync search writes one row. Asynchronous requests always keep theirs (their job, "
        "txn status and callback retries need them).",
    )
    dci_transaction_count = fields.Integer(compute="_compute_dci_transaction_count")

    @api.depends("app", "dci_registry_type")
    def _compute_dci_implementation(self):
        Registry = self.env["spp.dci.registry"]
        for endpoint in self:
            name = endpoint.app == DCI_APP and Registry._dci_implementation_name(
                endpoint.dci_registry_type
            )
            endpoint.dci_implementation = name or (
                _("none installed") if endpoint.app == DCI_APP else False
            )

    def _compute_dci_transaction_count(self):
        counts = dict(
            self.env["spp.dci.transaction"]._read_group(
                [("endpoint_id", "in", self.ids)], ["endpoint_id"], ["__count"]
            )
        )
        for endpoint in self:
            endpoint.dci_transaction_count = counts.get(endpoint, 0)

    @api.constrains(
        "app",
        "dci_registry_type",
        "dci_max_page_size",
        "dci_max_body_bytes",
        "dci_token_ttl",
        "dci_max_search_depth",
        "dci_search_timeout",
        "dci_file_max_bytes",
        "dci_file_max_rows",
    )
    def _check_dci_settings(self):
        for endpoint in self.filtered(lambda e: e.app == DCI_APP):
            if not endpoint.dci_registry_type:
                raise ValidationError(_("A DCI endpoint needs a registry type."))
            if (
                endpoint.dci_max_page_size < 1
                or endpoint.dci_max_body_bytes < 1024
                or endpoint.dci_token_ttl < 60
            ):
                raise ValidationError(
                    _(
                        "Page size must be positive, the request size at least 1024 bytes "
                        "and tokens must live 60 s or more."
                    )
                )
            if endpoint.dci_clock_skew < 0:
                raise ValidationError(_("The clock skew cannot be negative."))
            if endpoint.dci_max_search_depth < endpoint.dci_max_page_size:
                raise ValidationError(_("The paging depth must be at least one page."))
            if endpoint.dci_search_timeout and endpoint.dci_search_timeout < 100:
                raise ValidationError(_("The search time limit is 0 (none) or 100 ms or more."))
            if endpoint.dci_file_max_bytes < 1 or endpoint.dci_file_max_rows < 1:
                raise ValidationError(_("The search file size and rows must be positive."))

    @api.model
    def _fastapi_app_fields(self) -> list[str]:
        return [
            *super()._fastapi_app_fields(),
            "dci_registry_type",
            "dci_sender_id",
            "dci_max_page_size",
            "dci_max_search_depth",
            "dci_search_timeout",
            "dci_max_items",
            "dci_max_body_bytes",
            "dci_file_max_bytes",
            "dci_file_max_rows",
            "dci_clock_skew",
            "dci_token_ttl",
            "dci_store_payloads",
        ]

    def _dci_config(self) -> EndpointConfig:
        self.ensure_one()
        return EndpointConfig(
            endpoint_id=self.id,
            root_path=self.root_path,
            registry_type=self.dci_registry_type,
            max_page_size=self.dci_max_page_size,
            max_search_depth=self.dci_max_search_depth,
            search_timeout_ms=self.dci_search_timeout,
            max_items=self.dci_max_items,
            max_body_bytes=self.dci_max_body_bytes,
            file_max_bytes=self.dci_file_max_bytes,
            file_max_rows=self.dci_file_max_rows,
            clock_skew=self.dci_clock_skew,
            token_ttl=self.dci_token_ttl,
            sender_id=self.dci_sender_id or None,
            store_payloads=self.dci_store_payloads,
        )

    def _get_fastapi_routers(self):
        if self.app == DCI_APP:
            from ..routers import dci_router

            return [dci_router]
        return super()._get_fastapi_routers()

    def _get_fastapi_app_middlewares(self) -> list[Middleware]:
        middlewares = super()._get_fastapi_app_middlewares()
        if self.app == DCI_APP:
            from ..routers.middleware import DCILastResortMiddleware

            middlewares.append(Middleware(DCILastResortMiddleware, config=self._dci_config()))
        return middlewares

    def _get_fastapi_app_dependencies(self):
        if self.app == DCI_APP:
            # The base's only app dependency documents Accept-Language, which Odoo's
            # dispatcher reads before the app runs; it is a plain function, so FastAPI
            # would run it in a thread pool on every request. DCI answers are not
            # translated (the spec's codes and our messages are English).
            return []
        return super()._get_fastapi_app_dependencies()

    def _prepare_fastapi_app_params(self) -> dict[str, Any]:
        params = super()._prepare_fastapi_app_params()
        if self.app == DCI_APP:
            params.setdefault("version", "1.0.0")
            params["openapi_tags"] = [
                {"name": "Sync", "description": "Answered in the HTTP response."},
                {
                    "name": "Async",
                    "description": "Acknowledged at once, answered by a signed callback.",
                },
                {
                    "name": "Callbacks",
                    "description": "Callbacks received when this system is the caller.",
                },
                {"name": "Security", "description": "OAuth2 client credentials and our JWKS."},
            ]
        return params

    def _get_app(self):
        app = super()._get_app()
        if self.app == DCI_APP:
            from ..routers.openapi import install_openapi

            config = self._dci_config()
            app.state.dci_config = config  # read by routers.dependencies (the contexts)
            # FastAPI re-analyses every dependency of every request as soon as the app has
            # any dependency override (a signature inspection per dependency and request);
            # the DCI routes use none of the base overrides (endpoint id, company).
            app.dependency_overrides.clear()
            install_openapi(app, config)
        return app

    @api.model
    def _dci_sync_routes(self):
        """Register the routes of the DCI endpoints (data files call this at install)."""
        endpoints = self.search([("app", "=", DCI_APP)])
        endpoints.filtered(lambda e: not e.registry_sync).write({"registry_sync": True})
        endpoints._handle_registry_sync()
        return True

    def action_dci_transactions(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Transactions"),
            "res_model": "spp.dci.transaction",
            "view_mode": "list,form",
            "domain": [("endpoint_id", "=", self.id)],
        }
