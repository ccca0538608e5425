import hashlib
import hmac
import logging
import secrets
from urllib.parse import urlsplit

from odoo import _, api, fields, models, tools
from odoo.exceptions import ValidationError

from ..services import client_secrets
from ..services.callbacks import parse_hosts
from ..services.sender_info import SenderInfo

_logger = logging.getLogger(__name__)

#: Scopes a sender can be granted (OidcScope of the authz spec, plus the
#: ``registry.status`` / ``registry.on-status`` pair the list's "<etc>" leaves open).
SCOPES = (
    "registry.search",
    "registry.subscribe",
    "registry.status",
    "registry.on-search",
    "registry.on-subscribe",
    "registry.notify",
    "registry.on-status",
)
DEFAULT_SCOPES = "registry.search registry.subscribe registry.status"
REGISTRY_TYPES = ("social", "crvs", "ibr", "dr", "fr")
#: Write-only fields stored as the peer's secret (never echoed back after a save).
PEER_SECRET_FIELDS = ("callback_client_secret", "has_callback_client_secret")


class SppDciSender(models.Model):
    """A system allowed to call our DCI API: OAuth2 client, signer and callback target."""

    _name = "spp.dci.sender"
    _description = "DCI Sender"
    # spp.dci.cached.mixin: _dci_sender_info, every worker
    _inherit = ["mail.thread", "spp.dci.cached.mixin", "spp.dci.peer.direction.mixin"]
    _dci_id_field = "client_id"
    _dci_peer_secret_fields = PEER_SECRET_FIELDS
    _inherits = {"spp.dci.peer": "peer_id"}
    _order = "name"

    peer_id = fields.Many2one(
        "spp.dci.peer",
        string="Peer",
        required=True,
        ondelete="restrict",
        index=True,
        help="The peer this sender is: its DCI id, keys, JWKS, signature policy, hosts and "
        "client secret are the peer's, shared with a data source of the same registry.",
    )
    name = fields.Char(required=True, tracking=True)
    active = fields.Boolean(default=True, tracking=True)
    client_id = fields.Char(
        string="Client ID / Sender ID",
        related="peer_id.dci_id",
        readonly=False,
        required=True,
        help="OAuth2 client_id of this system (its peer's DCI id). Its DCI messages must carry "
        "the same value in header.sender_id, and its signatures in kidId.",
    )
    require_http_signature = fields.Boolean(
        string="Require HTTP Signature",
        default=False,
        tracking=True,
        help="Refuse requests and callbacks without an RFC 9421 HTTP signature "
        "(Signature-Input, Signature, Content-Digest) by one of the sender's keys "
        "(err.signature.missing). One that is present is always verified.",
    )
    allowed_registry_types = fields.Char(
        default="social",
        required=True,
        tracking=True,
        help="Registry types (social, crvs, ibr, dr, fr) this sender may call, comma separated.",
    )
    scopes = fields.Char(
        default=DEFAULT_SCOPES,
        required=True,
        tracking=True,
        help="OAuth2 scopes this sender may obtain, space separated: " + ", ".join(SCOPES),
    )
    callback_base_url = fields.Char(
        string="Default Callback URL",
        tracking=True,
        help="The callback address agreed at onboarding, used when an asynchronous request has "
        "no header.sender_uri: <this URL>/registry/on-search, /registry/on-subscribe, "
        "/registry/on-unsubscribe, /registry/txn/on-status and /registry/notify. It must pass "
        "the same callback host checks as a sender_uri. Empty: sender_uri is required.",
    )
    notify_uri = fields.Char(
        string="Notify URI",
        tracking=True,
        help="Where to POST /registry/notify for this sender's subscriptions. Empty: the "
        "subscribe request's sender_uri with its last segment 'on-subscribe' replaced by 'notify', "
        "else the default callback URL's /registry/notify.",
    )
    # our credentials at the sender's callback endpoints: the peer's (shared with a data source)
    callback_token_url = fields.Char(
        string="Callback Token URL",
        related="peer_id.token_url",
        readonly=False,
        help="When the sender's callback endpoints require a bearer token: its "
        "/oauth2/client/token URL (the peer's token URL). Empty: callbacks are sent without "
        "Authorization.",
    )
    callback_client_id = fields.Char(
        string="Callback Client ID", related="peer_id.our_client_id", readonly=False
    )
    callback_client_secret = fields.Char(
        string="Callback Client Secret",
        related="peer_id.our_client_secret",
        readonly=False,
        groups="spp_dci.group_dci_admin",
        help="Write-only: stored for use, never shown again (the peer's client secret).",
    )
    has_callback_client_secret = fields.Boolean(
        related="peer_id.has_our_client_secret", string="Callback Client Secret Set"
    )
    rate_limit = fields.Integer(
        string="Rate Limit (requests/minute)",
        default=600,
        help="Requests per minute on the registry paths, counted over every worker and node "
        "from the transactions of the last minute; 0 disables the limit.",
    )
    max_subscriptions = fields.Integer(
        string="Subscription Limit",
        default=100,
        tracking=True,
        help="Active subscriptions this sender may hold (every registry type together); a "
        "subscribe item over it is refused with rjct.notify_details.invalid. 0: no limit.",
    )
    transaction_ids = fields.One2many("spp.dci.transaction", "sender_id")
    transaction_count = fields.Integer(compute="_compute_counts")
    subscription_count = fields.Integer(compute="_compute_counts")

    _peer_unique = models.Constraint(
        "UNIQUE(peer_id)", "This peer (client ID) already has a sender record."
    )
    _rate_limit_positive = models.Constraint(
        "CHECK(rate_limit >= 0)", "The rate limit cannot be negative."
    )
    _max_subscriptions_positive = models.Constraint(
        "CHECK(max_subscriptions >= 0)", "The subscription limit cannot be negative."
    )

    def _compute_counts(self):
        txn = dict(
            self.env["spp.dci.transaction"]._read_group(
                [("sender_id", "in", self.ids)], ["sender_id"], ["__count"]
            )
        )
        sub = dict(
            self.env["spp.dci.subscription"]._read_group(
                [("sender_id", "in", self.ids), ("state", "=", "subscribe")],
                ["sender_id"],
                ["__count"],
            )
        )
        for sender in self:
            sender.transaction_count = txn.get(sender, 0)
            sender.subscription_count = sub.get(sender, 0)

    @api.constrains("scopes", "allowed_registry_types")
    def _check_lists(self):
        for sender in self:
            unknown = set(sender._dci_scopes()) - set(SCOPES)
            if unknown:
                raise ValidationError(_("Unknown scope(s): %s", ", ".join(sorted(unknown))))
            unknown = set(sender._dci_registry_types()) - set(REGISTRY_TYPES)
            if unknown:
                raise ValidationError(_("Unknown registry type(s): %s", ", ".join(sorted(unknown))))

    @api.constrains("callback_base_url")
    def _check_callback_base_url(self):
        for sender in self.filtered("callback_base_url"):
            try:
                parts = urlsplit(sender.callback_base_url)
            except ValueError:
                parts = None
            if (
                not parts
                or parts.scheme not in ("https", "http")
                or not parts.hostname
                or parts.username
                or parts.password
                or parts.query
                or parts.fragment
            ):
                raise ValidationError(
                    _(
                        "The default callback URL must be an absolute http(s) URL without "
                        "credentials, query or fragment (the callback paths are appended to it)."
                    )
                )

    # --- secrets -------------------------------------------------------------------

    def _dci_secret(self, name):
        """Our stored secret ``name`` at this sender (the peer's): ``callback_client_secret``."""
        self.ensure_one()
        if name != "callback_client_secret":
            raise KeyError(name)
        return self.peer_id._dci_secret("our_client_secret")

    def action_generate_secret(self):
        """Make a new client secret, store only its digest, show it once."""
        self.ensure_one()
        secret = secrets.token_urlsafe(32)
        self._dci_set_secret(secret)
        self.message_post(
            body=_("A new client secret was generated; the previous one no longer works.")
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": "spp.dci.sender.secret",
            "view_mode": "form",
            "target": "new",
            "context": {"default_sender_id": self.id, "default_client_secret": secret},
        }

    def _dci_set_secret(self, secret):
        """Set the client secret (tests, provisioning scripts); only its digest is kept."""
        self.ensure_one()
        self.sudo().write(
            {
                "client_secret_hash": client_secrets.hash_secret(
                    self._dci_client_secret_key(), secret
                ),
                "secret_set_at": fields.Datetime.now(),
            }
        )

    @api.model
    @tools.ormcache()
    def _dci_client_secret_key(self):
        """The HMAC key of client secret digests, derived from spp_dci's at-rest secret.

        ``[spp_dci] key_secret`` (or the database secret): the secret that also
        encrypts our private keys, so a database dump alone cannot test a guess.
        """
        at_rest = self.env["spp.dci.signing.key"]._dci_at_rest_secret()
        return hmac.new(
            at_rest.encode("utf-8"), b"spp_dci_server client secrets", hashlib.sha256
        ).digest()

    def _dci_check_secret(self, secret):
        """Whether ``secret`` is this sender's client secret (see _dci_authenticate_client)."""
        self.ensure_one()
        return self._dci_verify_secret(self.sudo().client_secret_hash, secret)

    @api.model
    def _dci_authenticate_client(self, client_id, secret):
        """The SenderInfo of the active sender ``client_id`` whose secret is ``secret``, or None.

        Known and unknown client ids take the same path (one HMAC, one
        constant-time comparison; see ``services/client_secrets.py``).
        """
        info = self._dci_sender_info(client_id)
        sender = self.browse(info.id if info else ())
        return info if sender._dci_verify_secret(info and info.secret_hash, secret) else None

    def _dci_verify_secret(self, stored, secret):
        """Check ``secret`` against ``stored`` (the digest of this sender, None: no sender)."""
        key = self._dci_client_secret_key()
        valid, rehash = client_secrets.verify(key, secret, stored)
        if valid and rehash and self:
            # a digest of the former format (PBKDF2): replace it now that we hold the secret
            self.sudo().write({"client_secret_hash": client_secrets.hash_secret(key, secret)})
            _logger.info("DCI sender %s: client secret digest upgraded to HMAC-SHA256", self.id)
        elif not valid and client_secrets.is_stale(key, stored):
            _logger.warning(
                "DCI sender %s: its client secret was stored under another server secret "
                "([spp_dci] key_secret changed?); generate a new one",
                self.id,
            )
        return valid

    # --- policy helpers ------------------------------------------------------------

    def _dci_scopes(self):
        return [scope for scope in (self.scopes or "").replace(",", " ").split() if scope]

    def _dci_registry_types(self):
        return [t.strip() for t in (self.allowed_registry_types or "").split(",") if t.strip()]

    def _dci_callback_hosts(self):
        return parse_hosts(self.callback_hosts)

    def _dci_allows_private_callbacks(self):
        return bool(self.sudo().allow_private_callbacks)

    # --- signature keys ------------------------------------------------------------

    def _dci_public_key(self, kid):
        """The sender's public key ``kid`` (None when unknown; see SenderInfo.public_key)."""
        self.ensure_one()
        info = self._dci_sender_info(self.client_id)
        return info.public_key(kid) if info and info.id == self.id else None

    # --- the request pipeline's view (cached per process) --------------------------

    @api.model
    @tools.ormcache("client_id")
    def _dci_sender_info(self, client_id):
        """:class:`SenderInfo` of the active sender ``client_id``, or None."""
        if not client_id or "\x00" in client_id:
            return None  # no sender has it, and PostgreSQL refuses NUL in a query
        sender = (
            self.sudo()
            .with_context(active_test=True)
            .search([("client_id", "=", client_id)], limit=1)
        )
        if not sender:
            return None
        return SenderInfo(
            id=sender.id,
            client_id=sender.client_id,
            scopes=tuple(sender._dci_scopes()),
            registry_types=tuple(sender._dci_registry_types()),
            signature_policy=sender.signature_policy,
            require_http_signature=bool(sender.require_http_signature),
            rate_limit=sender.rate_limit,
            callback_hosts=sender.callback_hosts or "",
            allow_private_callbacks=bool(sender.allow_private_callbacks),
            callback_base_url=sender.callback_base_url or None,
            notify_uri=sender.notify_uri or None,
            peer=sender.peer_id._dci_peer_keys(),
            secret_hash=sender.client_secret_hash or None,
        )
