# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
import contextlib
import logging
import time
from datetime import timedelta
from urllib.parse import urlsplit

import psycopg2

from odoo import SUPERUSER_ID, api, fields, models
from odoo.addons.spp_dci.dci.codes import Action, RegistryType
from odoo.addons.spp_dci.dci.jwks import JWKSError
from odoo.addons.spp_dci.dci.keys import SigningKey
from odoo.addons.spp_dci.dci.schemas import ACTION_MESSAGES
from odoo.exceptions import UserError, ValidationError

from ..client import oauth2
from ..client.errors import (
    ConfigurationError,
    DCIClientError,
    DuplicateAfterTimeout,
    SignatureVerificationError,
)
from ..client.service import (
    DEFAULT_PATHS,
    JWKS_PATH,
    OAUTH2_TOKEN_PATH,
    ClientSettings,
    DCIClient,
    new_id,
    records_of,
)

_logger = logging.getLogger(__name__)

REGISTRY_TYPES = [
    ("social", "Social Registry"),
    ("crvs", "Civil Registration and Vital Statistics (CRVS)"),
    ("ibr", "Integrated Beneficiary Registry (IBR)"),
    ("dr", "Disability Registry (DR)"),
    ("fr", "Farmer Registry (FR)"),
]
#: ``reg_type`` put in search and subscribe criteria, per registry type (spec examples).
REG_TYPE_CODES = {
    "social": RegistryType.SOCIAL.value,
    "crvs": RegistryType.CIVIL.value,
    "ibr": RegistryType.IBR.value,
    "dr": RegistryType.DR.value,
    "fr": RegistryType.FR.value,
}
#: Our receiver path (under the callback base URL) per request action.
CALLBACK_PATHS = {
    Action.SEARCH.value: "/registry/on-search",
    Action.SUBSCRIBE.value: "/registry/on-subscribe",
    Action.UNSUBSCRIBE.value: "/registry/on-unsubscribe",
    Action.TXN_STATUS.value: "/registry/txn/on-status",
    Action.NOTIFY.value: "/registry/notify",
}
#: Write-only fields stored as the peer's secret (never echoed back after a save).
PEER_SECRET_FIELDS = ("oauth2_client_secret", "has_oauth2_client_secret")
#: The test search of "Test connection": an id nobody has, one record per page.
PROBE_QUERY = {"type": "UIN", "value": "dci-connection-test"}


class DCIClientUserError(UserError):
    """A :class:`~..client.errors.DCIClientError` as a user error; ``kind`` says what failed."""

    def __init__(self, error: DCIClientError):
        super().__init__(str(error))
        self.kind = error.kind
        self.error = error


@contextlib.contextmanager
def dci_user_errors():
    """Turn client errors into :class:`DCIClientUserError` (for buttons and API callers)."""
    try:
        yield
    except DCIClientError as exc:
        raise DCIClientUserError(exc) from exc


class SppDciDataSource(models.Model):
    """An external DCI registry we query (CRVS, IBR, DR, social, farmer registry).

    The extension point for registry-specific addons is :meth:`_dci_handle_records`
    (and, for whole messages, :meth:`_dci_process_callback`): override it and
    act when ``self.registry_type`` is yours, else call ``super()``.
    """

    _name = "spp.dci.data.source"
    _inherit = ["mail.thread", "spp.dci.secret.mixin", "spp.dci.peer.direction.mixin"]
    _dci_id_field = "registry_sender_id"
    _dci_peer_secret_fields = PEER_SECRET_FIELDS
    _inherits = {"spp.dci.peer": "peer_id"}
    _description = "DCI Data Source"
    _order = "sequence, name, id"
    _dci_secret_fields = ("bearer_token",)

    peer_id = fields.Many2one(
        "spp.dci.peer",
        string="Peer",
        required=True,
        ondelete="restrict",
        index=True,
        help="The registry as a DCI peer: its DCI id, keys, JWKS, signature policy and TLS "
        "setting are the peer's, shared with its sender record when it also calls us.",
    )
    name = fields.Char(required=True, tracking=True)
    active = fields.Boolean(default=True, tracking=True)
    sequence = fields.Integer(default=10)
    registry_type = fields.Selection(REGISTRY_TYPES, required=True, default="social", tracking=True)
    reg_type = fields.Char(
        string="Registry Type Code",
        compute="_compute_reg_type",
        store=True,
        readonly=False,
        help="reg_type sent in search and subscribe criteria.",
    )
    base_url = fields.Char(
        string="Base URL",
        required=True,
        help="e.g. https://crvs.example.org/dci (no trailing path).",
        tracking=True,
    )
    registry_sender_id = fields.Char(
        string="Registry Sender ID",
        related="peer_id.dci_id",
        readonly=False,
        required=True,
        help="The registry's DCI id: our header.receiver_id, and the sender_id its answers, "
        "callbacks and signatures must carry.",
        tracking=True,
    )
    sender_id = fields.Char(
        string="Our Sender ID",
        help="header.sender_id we use with this registry; empty: the system-wide sender id.",
        tracking=True,
    )
    signing_key_id = fields.Many2one(
        "spp.dci.signing.key",
        string="Our Signing Key",
        domain=[("state", "in", ("active", "retiring"))],
        help="Empty (recommended): the active signing key. Pick a retiring key only while this "
        "registry still trusts our previous key (it is still in our JWKS).",
        tracking=True,
    )
    # -- paths (spec defaults, overridable) --
    path_sync_search = fields.Char(default=DEFAULT_PATHS["sync_search"], required=True)
    path_search = fields.Char(default=DEFAULT_PATHS["search"], required=True)
    path_subscribe = fields.Char(default=DEFAULT_PATHS["subscribe"], required=True)
    path_unsubscribe = fields.Char(default=DEFAULT_PATHS["unsubscribe"], required=True)
    path_txn_status = fields.Char(default=DEFAULT_PATHS["txn_status"], required=True)
    path_sync_txn_status = fields.Char(default=DEFAULT_PATHS["sync_txn_status"], required=True)
    # -- authentication --
    auth_type = fields.Selection(
        [
            ("none", "None"),
            ("bearer", "Static bearer token"),
            ("oauth2", "OAuth2 client credentials"),
        ],
        required=True,
        default="oauth2",
        tracking=True,
    )
    bearer_token = fields.Char(
        compute="_compute_dci_secret_fields",
        inverse="_inverse_dci_secret_fields",
        copy=False,
        groups="spp_dci.group_dci_admin",
        help="Write-only: stored for use, never shown again.",
    )
    has_bearer_token = fields.Boolean(compute="_compute_dci_has_secrets", string="Bearer Token Set")
    # our OAuth2 credentials at the registry: its peer's (shared with its sender's callbacks)
    oauth2_token_url = fields.Char(
        string="Token URL",
        related="peer_id.token_url",
        readonly=False,
        help=f"Empty: the base URL + {OAUTH2_TOKEN_PATH} (authz spec). The peer's token URL.",
    )
    oauth2_client_id = fields.Char(
        string="Client ID",
        related="peer_id.our_client_id",
        readonly=False,
        groups="spp_dci.group_dci_admin",
    )
    oauth2_client_secret = fields.Char(
        string="Client Secret",
        related="peer_id.our_client_secret",
        readonly=False,
        groups="spp_dci.group_dci_admin",
        help="Write-only: stored for use, never shown again (the peer's client secret).",
    )
    has_oauth2_client_secret = fields.Boolean(
        related="peer_id.has_our_client_secret", string="Client Secret Set"
    )
    oauth2_scope = fields.Char(string="Scope", help="Optional OAuth2 scope, e.g. registry.search.")
    # -- signatures (the peer's jwks_url, key_ids, signature_policy) --
    require_signature = fields.Boolean(
        compute="_compute_require_signature",
        inverse="_inverse_require_signature",
        help="Refuse unsigned answers and callbacks (a signature present is always verified): "
        "the peer's signature policy.",
    )
    require_http_signature = fields.Boolean(
        string="Require HTTP Signature",
        default=False,
        help="Refuse callbacks from this registry without an RFC 9421 HTTP signature "
        "(Signature-Input, Signature, Content-Digest) by one of its keys. One that is "
        "present is always verified.",
    )
    # -- transport --
    timeout = fields.Float(
        default=30.0, help="Seconds to wait for the registry (connect and each read)."
    )
    retries = fields.Integer(
        default=2, help="Extra attempts after a transport error or HTTP 429/502/503/504."
    )
    retry_backoff = fields.Float(
        default=0.5, help="Seconds before the first retry; doubled at each retry."
    )
    page_size = fields.Integer(
        default=100, help="Records per page when paging through search results."
    )
    callback_timeout = fields.Integer(
        string="Callback Timeout (min)",
        default=60,
        help="An async request with no callback by then expires.",
    )
    callback_base_url = fields.Char(
        string="Callback Base URL",
        help="Where the registry reaches our receivers; empty: web.base.url + the root path of "
        "the DCI endpoint of this registry type.",
        tracking=True,
    )
    # -- state --
    last_check_date = fields.Datetime(readonly=True, copy=False)
    last_check_ok = fields.Boolean(readonly=True, copy=False)
    last_check_message = fields.Text(readonly=True, copy=False)
    transaction_ids = fields.One2many(
        "spp.dci.client.transaction", "data_source_id", string="Transactions"
    )
    subscription_ids = fields.One2many(
        "spp.dci.client.subscription", "data_source_id", string="Subscriptions"
    )
    pending_count = fields.Integer(compute="_compute_pending_count")

    _page_size_positive = models.Constraint(
        "CHECK(page_size > 0)", "The page size must be positive."
    )

    @api.depends("signature_policy")
    def _compute_require_signature(self):
        for source in self:
            source.require_signature = source.signature_policy != "off"

    def _inverse_require_signature(self):
        for source in self:
            source.signature_policy = "required" if source.require_signature else "off"

    @api.depends("registry_type")
    def _compute_reg_type(self):
        for source in self:
            source.reg_type = REG_TYPE_CODES.get(source.registry_type)

    def _inverse_dci_secret_fields(self):
        """Typed secrets go to the write-only store (spp_dci); cached tokens are dropped.

        An empty value keeps the stored secret (the form shows the field empty);
        "Clear credentials" removes it.
        """
        super()._inverse_dci_secret_fields()
        oauth2.TOKEN_CACHE.invalidate()

    def _compute_pending_count(self):
        groups = self.env["spp.dci.client.transaction"]._read_group(
            [("data_source_id", "in", self.ids), ("state", "in", ("pending", "partial"))],
            ["data_source_id"],
            ["__count"],
        )
        counts = {source.id: count for source, count in groups}
        for source in self:
            source.pending_count = counts.get(source.id, 0)

    @api.constrains("peer_id", "active")
    def _check_registry_sender_unique(self):
        for source in self.filtered("active"):
            if self.search_count(
                [("peer_id", "=", source.peer_id.id), ("id", "!=", source.id)], limit=1
            ):
                raise ValidationError(
                    self.env._(
                        "Another active data source already has the registry sender id %s: "
                        "callbacks are matched to their data source by this id.",
                        source.registry_sender_id,
                    )
                )

    @api.constrains("base_url", "oauth2_token_url", "callback_base_url")
    def _check_urls(self):
        for source in self:
            for name in ("base_url", "oauth2_token_url", "callback_base_url"):
                url = source[name]
                if url and not (url.startswith(("https://", "http://")) and urlsplit(url).hostname):
                    raise ValidationError(
                        self.env._(
                            "%s must be an http(s) URL.",
                            source._fields[name].get_description(self.env)["string"],
                        )
                    )

    def _dci_default_jwks_url(self):
        return self.base_url.rstrip("/") + JWKS_PATH if self.base_url else False

    @api.onchange("base_url", "require_signature")
    def _onchange_base_url(self):
        # Only where answers must be verified: a registry that does not sign often
        # has no JWKS, and a filled-in URL that answers 404 would fail "Test connection".
        if self.require_signature and not self.jwks_url:
            self.jwks_url = self._dci_default_jwks_url()
        elif not self.require_signature and self.jwks_url == self._dci_default_jwks_url():
            self.jwks_url = False  # the one filled in above; a URL typed in is kept

    def _dci_secret(self, name):
        """Our stored secret ``name``: the bearer token here, the client secret the peer's."""
        if name == "oauth2_client_secret":
            self.ensure_one()
            return self.peer_id._dci_secret("our_client_secret")
        return super()._dci_secret(name)

    def action_clear_credentials(self):
        """Forget the stored bearer token and client secret (and cached tokens).

        The client secret is the peer's: its sender's callbacks lose it too.
        """
        self._dci_forget_secrets()
        self.peer_id._dci_forget_secrets()
        oauth2.TOKEN_CACHE.invalidate()
        return True

    # -- building the client -----------------------------------------------------------------

    def _dci_sender_id(self):
        self.ensure_one()
        return self.sender_id or self.env["spp.dci.signing.key"]._dci_sender_id()

    def _dci_signer(self) -> SigningKey:
        """Our signing key for this registry (the chosen one, else the active one)."""
        self.ensure_one()
        key = self.signing_key_id.sudo()
        if not key or key.state not in ("active", "retiring"):
            return self.env["spp.dci.signing.key"]._dci_signer()
        return key._dci_signing_key()

    def _dci_peer_keys(self):
        """The registry's keys (its peer's): what its answers and callbacks are checked with."""
        self.ensure_one()
        return self.sudo().peer_id._dci_peer_keys()

    def _dci_token_url(self):
        return self.oauth2_token_url or (self.base_url or "").rstrip("/") + OAUTH2_TOKEN_PATH

    def _dci_settings(self, *, receiving=False) -> ClientSettings:
        """Client settings; ``receiving``: only what checking a callback needs (no credentials)."""
        self.ensure_one()
        source = self.sudo()
        bearer = credentials = None
        if receiving:
            pass
        elif source.auth_type == "bearer":
            bearer = source._dci_secret("bearer_token")
            if not bearer:
                raise ConfigurationError(
                    "Authentication is 'static bearer token' but no token is stored."
                )
        elif source.auth_type == "oauth2":
            client_secret = source._dci_secret("oauth2_client_secret")
            if not source.oauth2_client_id or not client_secret:
                raise ConfigurationError(
                    "OAuth2 needs a client id and a client secret (Authentication tab)."
                )
            credentials = oauth2.OAuth2ClientCredentials(
                token_url=source._dci_token_url(),
                client_id=source.oauth2_client_id,
                client_secret=client_secret,
                scope=source.oauth2_scope or None,
            )
        log = self.env["spp.dci.client.exchange.log"]
        return ClientSettings(
            base_url=source.base_url,
            sender_id=source._dci_sender_id(),
            signer=None if receiving else source._dci_signer(),
            peer_keys=source._dci_peer_keys(),
            registry_sender_id=source.registry_sender_id,
            paths={
                "sync_search": source.path_sync_search,
                "search": source.path_search,
                "subscribe": source.path_subscribe,
                "unsubscribe": source.path_unsubscribe,
                "txn_status": source.path_txn_status,
                "sync_txn_status": source.path_sync_txn_status,
            },
            bearer_token=bearer,
            oauth2=credentials,
            timeout=source.timeout or 30.0,
            retries=max(source.retries, 0),
            backoff=max(source.retry_backoff, 0.0),
            verify_tls=source.tls_verify,
            require_signature=source.require_signature,
            observer=lambda exchange: log._dci_record_exchange(exchange, source),
        )

    @contextlib.contextmanager
    def _dci_client(self, *, receiving=False):
        """A :class:`~..client.service.DCIClient` for this registry (closed on exit)."""
        self.ensure_one()
        with dci_user_errors():
            client = DCIClient(self._dci_settings(receiving=receiving))
        with client, dci_user_errors():
            yield client

    def _dci_callback_base_url(self):
        """Where the registry reaches our receivers (``header.sender_uri`` minus the path).

        The data source's own setting, else ``spp_dci_client.callback_base_url``,
        else ``web.base.url`` + the root path of the active DCI endpoint
        (spp_dci_server) serving this registry type: callbacks from a CRVS
        registry arrive at our CRVS-type DCI endpoint.
        """
        self.ensure_one()
        params = self.env["ir.config_parameter"].sudo()
        base = self.callback_base_url or params.get_param("spp_dci_client.callback_base_url")
        if base:
            return base.rstrip("/")
        endpoint = (
            self.env["fastapi.endpoint"]
            .sudo()
            .search([("app", "=", "dci"), ("dci_registry_type", "=", self.registry_type)], limit=1)
        )
        if not endpoint:
            raise ConfigurationError(
                "No DCI endpoint receives callbacks for registry type "
                f"{self.registry_type!r}: create one (DCI > Server > Endpoints) "
                "or set this data source's callback base URL."
            )
        return (params.get_param("web.base.url") or "").rstrip("/") + endpoint.root_path.rstrip("/")

    def _dci_callback_url(self, action):
        """Our receiver URL answering ``action`` (``search`` -> ``.../registry/on-search``)."""
        return self._dci_callback_base_url() + CALLBACK_PATHS[Action(action).value]

    def _dci_criteria(self, query_type, query, **criteria):
        """A ``search_criteria`` for this registry (``reg_type`` filled in unless given)."""
        self.ensure_one()
        criteria.setdefault("reg_type", self.reg_type or None)
        criteria = {key: value for key, value in criteria.items() if value is not None}
        with dci_user_errors():
            return DCIClient.search_criteria(query_type, query, **criteria)

    # -- synchronous API (nothing is written but the exchange log) ----------------------------

    def _dci_sync_search(self, query_type, query, **criteria):
        """One ``/registry/sync/search``; returns the verified ``SyncResult``.

        ``criteria``: ``reg_event_type``, ``reg_record_type``, ``response_entity``,
        ``sort``, ``pagination``, ``consent``, ``authorize``, ``locale``.
        """
        locale = criteria.pop("locale", None)
        search_criteria = self._dci_criteria(query_type, query, **criteria)
        with self._dci_client() as client:
            return client.sync_search([search_criteria], locale=locale)

    def _dci_iter_records(self, query_type, query, *, page_size=None, **criteria):
        """Iterate over every record of a search, page after page (one page in memory).

        A generator: pages are fetched as you consume it, and each one is
        verified before any of its records is yielded.
        """
        locale = criteria.pop("locale", None)
        search_criteria = self._dci_criteria(query_type, query, **criteria)
        with self._dci_client() as client:
            yield from client.iter_records(
                search_criteria, page_size=page_size or self.page_size, locale=locale
            )

    def _dci_sync_call(self, spec_path, message, *, path=None):
        """Any synchronous endpoint of the spec, e.g. DR ``/registry/sync/disabled``.

        ``message``: the request message (dict), validated with the spec model of
        ``spec_path``; returns the verified ``SyncResult``.
        """
        with self._dci_client() as client:
            return client.sync_call(spec_path, message, path=path)

    def _dci_sync_txn_status(
        self, transaction_id, *, txn_type="search", attribute_type="transaction_id"
    ):
        """``/registry/sync/txn/status`` about one of our transactions; returns the SyncResult."""
        with self._dci_client() as client:
            return client.sync_txn_status(txn_type, attribute_type, transaction_id)

    # -- asynchronous API (pending transactions) -------------------------------------------------

    def _dci_independent_write(self, model, record_id=None, vals=None, *, only_if=None):
        """Create or update one record in its own committed transaction.

        Pending transactions are written this way: the registry may call back
        before the business transaction that sent the request commits, and the
        request has left this system even if that transaction is rolled back.
        Returns the record id.
        """
        for attempt in range(3):
            try:
                with self.env.registry.cursor() as cr:
                    env = api.Environment(cr, SUPERUSER_ID, {})
                    if record_id is None:
                        return env[model].create(vals).id
                    env[model].search([("id", "=", record_id), *(only_if or [])]).write(vals)
                    return record_id
            except psycopg2.errors.SerializationFailure:
                if attempt == 2:
                    raise
                time.sleep(0.1 * (attempt + 1))
        return record_id

    def _dci_send_async(self, action, send, *, reference_ids=None, description=None, values=None):
        """Open a pending transaction, send the request, record the ACK.

        ``send(client, sender_uri, transaction_id)`` performs the request and
        returns the ACK message; ``values``: more fields of the transaction.
        Returns a dict ``id``, ``transaction_id``,
        ``correlation_id``, ``ack_status`` (None when the ACK was lost to a
        timeout and the registry refused the re-send as a duplicate: the
        transaction stays pending, reconciled through txn status).
        """
        self.ensure_one()
        action = Action(action).value
        with dci_user_errors():
            sender_uri = self._dci_callback_url(action)
        transaction_id = new_id()
        now = fields.Datetime.now()
        with self._dci_client() as client:
            txn_id = self._dci_independent_write(
                "spp.dci.client.transaction",
                vals={
                    "data_source_id": self.id,
                    "action": action,
                    "transaction_id": transaction_id,
                    "state": "pending",
                    "sent_at": now,
                    "deadline": now + timedelta(minutes=self.callback_timeout or 60),
                    "user_id": self.env.uid,
                    "description": description,
                    "reference_ids": reference_ids,
                    **(values or {}),
                },
            )
            try:
                ack = send(client, sender_uri, transaction_id)
            except DuplicateAfterTimeout as exc:  # the registry has it; its ACK was lost
                return self.env["spp.dci.client.transaction"]._dci_reconcile_resent(
                    self, txn_id, action, transaction_id, exc
                )
            except DCIClientError as exc:
                self._dci_independent_write(
                    "spp.dci.client.transaction",
                    txn_id,
                    {
                        "state": "rejected" if exc.kind == "rejected" else "error",
                        "status_reason": str(exc),
                        "completed_at": fields.Datetime.now(),
                    },
                    only_if=[("state", "=", "pending")],
                )
                raise
        self._dci_independent_write(
            "spp.dci.client.transaction", txn_id, {"ack_status": ack.ack_status.value}
        )
        if ack.ack_status.value == "NACK":
            self._dci_independent_write(
                "spp.dci.client.transaction",
                txn_id,
                {
                    "state": "done",
                    "status_reason": "NACK: the registry accepted the request, "
                    "it will not call back.",
                    "completed_at": fields.Datetime.now(),
                },
                only_if=[("state", "=", "pending")],
            )
        # An early callback may have brought the correlation id already: keep that one.
        self._dci_independent_write(
            "spp.dci.client.transaction",
            txn_id,
            {"correlation_id": ack.correlation_id},
            only_if=[("correlation_id", "=", False)],
        )
        return {
            "id": txn_id,
            "transaction_id": transaction_id,
            "correlation_id": ack.correlation_id,
            "ack_status": ack.ack_status.value,
        }

    def _dci_search_async(self, query_type, query, **criteria):
        """``/registry/search``: the records arrive on our ``/registry/on-search`` receiver."""
        locale = criteria.pop("locale", None)
        search_criteria = self._dci_criteria(query_type, query, **criteria)

        def send(client, sender_uri, transaction_id):
            return client.search(
                [search_criteria],
                sender_uri=sender_uri,
                transaction_id=transaction_id,
                locale=locale,
            )

        return self._dci_send_async(
            Action.SEARCH,
            send,
            description=f"{query_type} search",
            # a page asked for is the whole answer; otherwise the registry may push pages
            values={"pagination_requested": bool(criteria.get("pagination"))},
        )

    def _dci_subscribe(
        self, reg_event_type, filter_type, filter_, notify_record_type, *, frequency=None, **extra
    ):
        """``/registry/subscribe``; the subscription codes arrive on ``/registry/on-subscribe``."""
        self.ensure_one()
        criteria = {
            "reg_type": self.reg_type or None,
            "reg_event_type": reg_event_type,
            "filter_type": filter_type,
            "filter": filter_,
            "notify_record_type": notify_record_type,
            "frequency": frequency,
            **extra,
        }
        criteria = {key: value for key, value in criteria.items() if value is not None}

        def send(client, sender_uri, transaction_id):
            return client.subscribe(
                [criteria], sender_uri=sender_uri, transaction_id=transaction_id
            )

        return self._dci_send_async(
            Action.SUBSCRIBE, send, description=f"subscribe {reg_event_type}"
        )

    def _dci_unsubscribe(self, subscription_codes):
        """``/registry/unsubscribe`` for the given subscription codes."""
        codes = list(subscription_codes)

        def send(client, sender_uri, transaction_id):
            return client.unsubscribe(codes, sender_uri=sender_uri, transaction_id=transaction_id)

        return self._dci_send_async(
            Action.UNSUBSCRIBE,
            send,
            reference_ids=codes,
            description=f"unsubscribe {', '.join(codes)}",
        )

    def _dci_txn_status(
        self, transaction_id, *, txn_type="search", attribute_type="transaction_id"
    ):
        """``/registry/txn/status``; the answer arrives on ``/registry/txn/on-status``."""

        def send(client, sender_uri, new_transaction_id):
            return client.txn_status(
                txn_type,
                attribute_type,
                transaction_id,
                sender_uri=sender_uri,
                transaction_id=new_transaction_id,
            )

        return self._dci_send_async(
            Action.TXN_STATUS, send, description=f"status of {transaction_id}"
        )

    # -- the extension point ---------------------------------------------------------------------

    def _dci_process_callback(self, transaction, action, message):
        """Queue job: hand an accepted callback's records to :meth:`_dci_handle_records`.

        Runs in a queue job (channel ``root.dci_client``) after the receiver
        verified and acknowledged the callback. ``self`` is the data source,
        ``transaction`` the ``spp.dci.client.transaction`` it answers (empty
        for ``notify``), ``action`` the callback's ``header.action`` and
        ``message`` its verified ``message`` object (JSON dict).
        Returns a short summary (stored on the job).
        """
        self.ensure_one()
        action = Action(action)
        parsed = ACTION_MESSAGES[action].model_validate(message)
        handled = 0
        for reference_id, data, records in self._dci_callback_items(action, parsed):
            result = self._dci_handle_records(
                records,
                action=action.value,
                transaction=transaction,
                reference_id=reference_id,
                data=data,
            )
            handled += result if isinstance(result, int) else len(records)
        return f"{action.value}: {handled} record(s) handled by {self.registry_type}"

    @api.model
    def _dci_callback_items(self, action, parsed):
        """Yield ``(reference_id, data_dict, records)`` for each item of a callback message."""
        if action == Action.ON_SEARCH:
            for item in parsed.search_response:
                if item.data is not None:
                    yield item.reference_id, item.data.to_json(), records_of(item)
        elif action == Action.NOTIFY:
            for event in parsed.notify_event:
                yield (
                    event.reference_id,
                    event.data.to_json(),
                    [event.data.to_json()["reg_records"]],
                )
        elif action == Action.TXN_ON_STATUS:
            status = parsed.txnstatus_response.txn_status
            for item in getattr(status, "search_response", None) or []:
                if item.data is not None:
                    yield item.reference_id, item.data.to_json(), records_of(item)
            receipt = getattr(status, "receipt_information", None)
            if receipt is not None and receipt.beneficiaries:
                yield status.transaction_id, receipt.to_json(), list(receipt.beneficiaries)

    def _dci_handle_records(self, records, *, action, transaction, reference_id, data):
        """Extension point: process records received from this registry.

        Override in a registry addon; act when ``self.registry_type`` is yours,
        otherwise return ``super()``. Called in a queue job, once per
        ``search_response`` item (``on-search``, ``txn-on-status``) or
        ``notify_event`` (``notify``), only for callbacks whose signature,
        sender and transaction were verified.

        :param records: list of JSON-LD record dicts (``reg_records``)
        :param action: ``"on-search"``, ``"notify"`` or ``"txn-on-status"``
        :param transaction: the ``spp.dci.client.transaction`` (empty for notify)
        :param reference_id: the item's ``reference_id``
        :param data: the item's ``data`` dict (``reg_type``, ``reg_event_type``,
            ``reg_record_type``, ``reg_records``...)
        :return: the number of records handled (the base handles none: the
            records stay in the exchange log only)
        """
        return 0

    # -- UI ------------------------------------------------------------------------------------

    def _dci_check_connection(self):
        """Token, JWKS and a signed test search; returns ``(ok, message)`` in plain words."""
        self.ensure_one()
        steps = []
        try:
            with dci_user_errors():
                settings = self._dci_settings()
            with DCIClient(settings) as client:
                if settings.oauth2 is not None:
                    client._token(force_new=True)
                    steps.append(f"OAuth2: token obtained from {settings.oauth2.token_url}.")
                elif settings.bearer_token:
                    steps.append("Authentication: static bearer token.")
                if self.jwks_url:
                    try:
                        keys = self._dci_peer_keys().jwks_cache().get_keys(self.jwks_url)
                    except JWKSError as exc:
                        problem = (
                            "JWKS: the registry's keys could not be loaded from "
                            f"{self.jwks_url} ({exc})"
                        )
                        if self.require_signature:
                            raise SignatureVerificationError(problem + ".", kind="jwks") from exc
                        # nothing needs them until the registry signs: a warning, not a failure
                        steps.append(
                            f"{problem}: not needed, as signed answers are not required, but "
                            "a signed answer cannot be verified without them (clear the JWKS "
                            "URL if the registry does not sign)."
                        )
                    else:
                        steps.append(f"JWKS: {len(keys)} signature key(s) at {self.jwks_url}.")
                criteria = DCIClient.search_criteria(
                    "idtype-value",
                    PROBE_QUERY,
                    reg_type=self.reg_type or None,
                    pagination={"page_size": 1, "page_number": 1},
                )
                result = client.sync_search([criteria])
                signed = (
                    f"signed by {result.header.sender_id} with key {result.key_id}, "
                    "signature verified"
                    if result.key_id
                    else "not signed"
                )
                steps.append(f"Search: spec-valid answer ({signed}).")
        except (DCIClientError, DCIClientUserError, UserError) as exc:
            return False, "\n".join([*steps, f"FAILED: {exc}"])
        return True, "\n".join(["Connection OK.", *steps])

    def action_test_connection(self):
        self.ensure_one()
        ok, message = self._dci_check_connection()
        self.write(
            {
                "last_check_date": fields.Datetime.now(),
                "last_check_ok": ok,
                "last_check_message": message,
            }
        )
        self.message_post(body=self.env._("Test connection: %(result)s", result=message))
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Connection OK") if ok else self.env._("Connection failed"),
                "message": message,
                "type": "success" if ok else "danger",
                "sticky": not ok,
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def action_view_transactions(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "spp_dci_client.action_spp_dci_client_transaction"
        )
        action["domain"] = [("data_source_id", "=", self.id)]
        action["context"] = {"default_data_source_id": self.id}
        return action
