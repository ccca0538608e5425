import logging
from urllib.parse import urlsplit

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..dci.peer_keys import PeerKeys

_logger = logging.getLogger(__name__)


class SppDciPeer(models.Model):
    """Another DCI system, configured once: the registry we call and/or the system that calls us.

    Its DCI id, signature keys (registered and JWKS), signature policy, hosts and
    its credentials at our token endpoint belong here, and both directions use
    them: ``spp.dci.sender`` (spp_dci_server: what the peer may do on our
    registry paths) and ``spp.dci.data.source`` (spp_dci_client: how we query
    it) are thin records that delegate to a peer (``_inherits``). A message the
    peer signs is checked with :meth:`_dci_peer_keys` whichever way it travels.
    """

    _name = "spp.dci.peer"
    _description = "DCI Peer"
    _inherit = ["mail.thread", "spp.dci.secret.mixin", "spp.dci.cached.mixin"]
    _order = "name, id"
    _dci_secret_fields = ("our_client_secret",)

    name = fields.Char(required=True, tracking=True)
    dci_id = fields.Char(
        string="DCI ID",
        required=True,
        index=True,
        tracking=True,
        help="The peer's DCI id: header.sender_id of its messages and the first part of the "
        "kidId of its signatures; our header.receiver_id when we call it. As a sender of ours "
        "it is also its OAuth2 client_id.",
    )
    key_ids = fields.One2many("spp.dci.peer.key", "peer_id", string="Public Keys")
    jwks_url = fields.Char(
        string="JWKS URL",
        tracking=True,
        help="Where the peer publishes its signature keys (GET /.well-known/jwks.json). "
        "Registered keys are looked up first.",
    )
    jwks_allow_http = fields.Boolean(
        string="Allow http:// JWKS",
        groups="spp_dci.group_dci_admin",
        tracking=True,
        help="Testing only: a JWKS fetched over plain HTTP can be swapped by anyone on the path "
        "(loopback URLs are always allowed).",
    )
    tls_verify = fields.Boolean(
        string="Verify TLS",
        default=True,
        tracking=True,
        help="Verify the peer's TLS certificate (its JWKS, and our requests to it).",
    )
    signature_policy = fields.Selection(
        [("required", "Required"), ("off", "Off (unsigned messages accepted)")],
        default="required",
        required=True,
        tracking=True,
        help="Required: every message of this peer (its requests, answers and callbacks) must "
        "carry a valid DCI signature. Off: for peers that cannot sign yet; signatures that are "
        "present are still verified, unsigned messages are accepted and logged.",
    )
    callback_hosts = fields.Text(
        string="Allowed Hosts",
        tracking=True,
        help="Hosts of the peer that may receive our callbacks and notifications, one per "
        "line: host, host:port or *.domain.",
    )
    allow_private_callbacks = fields.Boolean(
        groups="spp_dci.group_dci_admin",
        tracking=True,
        help="Allow callbacks to private, loopback or link-local addresses and over plain "
        "http:// (internal networks and tests only).",
    )
    # the peer's credentials at our token endpoint (the digest only; spp_dci_server)
    client_secret_hash = fields.Char(copy=False, groups="base.group_system")
    has_secret = fields.Boolean(compute="_compute_has_secret", string="Secret Set")
    secret_set_at = fields.Datetime(readonly=True, copy=False)
    # our credentials at the peer's token endpoint: for our requests (a data source) and
    # our callbacks (a sender) alike
    token_url = fields.Char(
        string="OAuth2 Token URL",
        tracking=True,
        help="The peer's OAuth2 token endpoint (/oauth2/client/token) where we obtain access "
        "tokens for our requests and our callbacks to it. Empty: a data source uses its base "
        "URL + /oauth2/client/token, callbacks are sent without Authorization.",
    )
    our_client_id = fields.Char(
        string="Our Client ID",
        tracking=True,
        help="The OAuth2 client_id the peer gave us at its token endpoint.",
    )
    our_client_secret = fields.Char(
        string="Our Client Secret",
        compute="_compute_dci_secret_fields",
        inverse="_inverse_dci_secret_fields",
        copy=False,
        groups="spp_dci.group_dci_admin",
        help="Write-only: stored for use, never shown again.",
    )
    has_our_client_secret = fields.Boolean(
        compute="_compute_dci_has_secrets", string="Our Client Secret Set"
    )

    _dci_id_unique = models.Constraint("UNIQUE(dci_id)", "Another peer already has this DCI id.")

    @api.depends("client_secret_hash")
    def _compute_has_secret(self):
        for peer in self:
            peer.has_secret = bool(peer.sudo().client_secret_hash)

    @api.constrains("dci_id")
    def _check_dci_id(self):
        for peer in self:
            if not peer.dci_id or "|" in peer.dci_id or peer.dci_id != peer.dci_id.strip():
                raise ValidationError(
                    self.env._("A DCI id must not be empty, contain '|' or surrounding spaces.")
                )

    @api.constrains("jwks_url", "token_url")
    def _check_urls(self):
        for peer in self:
            for url in (peer.jwks_url, peer.token_url):
                parts = urlsplit(url or "")
                if url and (parts.scheme not in ("https", "http") or not parts.hostname):
                    raise ValidationError(
                        self.env._("The JWKS and token URLs must be http(s) URLs.")
                    )

    @api.constrains("signature_policy")
    def _log_signature_policy(self):
        for peer in self.filtered(lambda p: p.signature_policy == "off"):
            _logger.warning("DCI peer %s: unsigned messages accepted (policy off)", peer.dci_id)

    # --- the records of each direction ------------------------------------------------

    @api.model
    def _dci_link_vals(self, vals_list, id_field):
        """Point each new direction record's ``vals`` at its peer (``_inherits`` helper).

        ``id_field`` is the record's own name of the DCI id (``client_id`` of a
        sender, ``registry_sender_id`` of a data source): a peer that already has
        the id is reused, so that a registry we call and that calls us is one
        peer; otherwise a peer is created, named like the record.
        """
        vals_list = [dict(vals) for vals in vals_list]
        for vals in vals_list:
            dci_id = vals.pop(id_field, None)
            if dci_id:  # the record's own name of the id wins (copy() brings the peer's too)
                vals["dci_id"] = dci_id
        unlinked = [vals for vals in vals_list if vals.get("dci_id") and not vals.get("peer_id")]
        peers = {  # one query for the whole batch
            peer.dci_id: peer.id
            for peer in self.sudo().search([("dci_id", "in", [v["dci_id"] for v in unlinked])])
        }
        for vals in unlinked:
            if vals["dci_id"] not in peers:
                peers[vals["dci_id"]] = self.create(
                    {"name": vals.get("name") or vals["dci_id"], "dci_id": vals["dci_id"]}
                ).id
            vals["peer_id"] = peers[vals["dci_id"]]
        return vals_list

    # --- keys -------------------------------------------------------------------------

    def _dci_peer_keys(self) -> PeerKeys:
        """This peer's keys as the one signature check uses them (:mod:`..dci.peer_keys`)."""
        self.ensure_one()
        peer = self.sudo()
        keys = {}
        for key in peer.key_ids.filtered("active"):
            try:
                public = key._dci_public_key()
            except ValidationError:
                _logger.warning("DCI peer %s: public key %s is unusable", peer.dci_id, key.kid)
                continue
            keys[public.kid] = public
        return PeerKeys(
            dci_id=peer.dci_id,
            keys=keys,
            jwks_url=peer.jwks_url or None,
            jwks_allow_http=bool(peer.jwks_allow_http),
            verify_tls=bool(peer.tls_verify),
        )
