import configparser
import logging
import os
import threading

from odoo import api, fields, models, tools
from odoo.exceptions import UserError
from odoo.tools import config

from ..dci import keys as dci_keys

_logger = logging.getLogger(__name__)

# Decrypted keys kept in memory per database and key version, so that signing a
# response does not parse and decrypt a PEM on every request.
_SIGNER_CACHE = {}
_SIGNER_CACHE_LOCK = threading.Lock()

ALGORITHMS = [
    (dci_keys.ED25519, "Ed25519"),
    (dci_keys.RSA_SHA256, "RSA PKCS#1 v1.5 SHA-256"),
    (dci_keys.RSA_PSS_SHA512, "RSA-PSS SHA-512"),
]
PUBLISHED_STATES = ("active", "retiring")


def dci_config_option(name):
    """An option of the ``[spp_dci]`` section of the Odoo configuration file.

    Odoo 19 only parses ``[options]``, so we read our section as queue_job reads
    ``[queue_job]``. ``SPP_DCI_<NAME>`` in the environment wins (containers).
    """
    value = os.environ.get(f"SPP_DCI_{name.upper()}")
    if value:
        return value
    parser = configparser.ConfigParser(interpolation=None)
    if config.get("config"):
        parser.read(config["config"])
    return parser.get("spp_dci", name, fallback=None)


class SppDciSigningKey(models.Model):
    """A key this system signs DCI messages with; its public half is in our JWKS.

    Life cycle: draft -> active (signs; one at a time) -> retiring (no longer
    signs, still published so peers can verify what it signed) -> expired, or
    revoked at any time (withdrawn from the JWKS at once).
    """

    _name = "spp.dci.signing.key"
    _inherit = ["mail.thread"]
    _description = "DCI Signing Key"
    _order = "state_order, activated_at desc, id desc"

    name = fields.Char(
        required=True, default=lambda self: self.env._("DCI signing key"), tracking=True
    )
    kid = fields.Char(
        string="Key ID",
        readonly=True,
        copy=False,
        index=True,
        help="RFC 7638 thumbprint; the kid in our JWKS.",
    )
    algorithm = fields.Selection(ALGORITHMS, required=True, default=dci_keys.ED25519)
    state = fields.Selection(
        [
            ("draft", "Draft"),
            ("active", "Active"),
            ("retiring", "Retiring"),
            ("expired", "Expired"),
            ("revoked", "Revoked"),
        ],
        default="draft",
        required=True,
        readonly=True,
        copy=False,
        tracking=True,
    )
    state_order = fields.Integer(compute="_compute_state_order", store=True)
    # Encrypted PKCS#8 PEM; never shown in any view, readable by system admins only.
    encrypted_private_key = fields.Text(readonly=True, copy=False, groups="base.group_system")
    public_jwk = fields.Json(string="Public JWK", readonly=True, copy=False)
    public_pem = fields.Text(string="Public Key (PEM)", readonly=True, copy=False)
    activated_at = fields.Datetime(readonly=True, copy=False)
    retired_at = fields.Datetime(readonly=True, copy=False)
    revoked_at = fields.Datetime(readonly=True, copy=False)
    expires_at = fields.Datetime(
        help="After this time the key is no longer published nor used (checked hourly).",
        tracking=True,
    )

    _kid_unique = models.Constraint("UNIQUE(kid)", "Key IDs must be unique.")

    @api.depends("state")
    def _compute_state_order(self):
        order = {"active": 0, "retiring": 1, "draft": 2, "expired": 3, "revoked": 4}
        for key in self:
            key.state_order = order.get(key.state, 9)

    # -- key material -------------------------------------------------------------

    @api.model
    def _dci_at_rest_secret(self):
        """Secret that encrypts private keys: ``[spp_dci] key_secret`` in the Odoo config file."""
        secret = dci_config_option("key_secret")
        if secret:
            return secret
        _logger.warning(
            "SECURITY: no [spp_dci] key_secret in the Odoo configuration file; DCI private keys "
            "are encrypted with the database secret instead, which anyone with a database dump "
            "can read. Set key_secret (see the spp_dci README)."
        )
        return self.env["ir.config_parameter"].sudo().get_param("database.secret")

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            signing_key = dci_keys.SigningKey.generate(vals.get("algorithm") or dci_keys.ED25519)
            vals.update(self._dci_key_material_vals(signing_key))
        self.env.registry.clear_cache()  # our signer and JWKS, in every worker (signalling)
        return super().create(vals_list)

    @api.model
    def _dci_key_material_vals(self, signing_key):
        public = signing_key.public_key
        return {
            "kid": signing_key.kid,
            "encrypted_private_key": signing_key.to_encrypted_pem(
                self._dci_at_rest_secret()
            ).decode(),
            "public_jwk": public.to_jwk(),
            "public_pem": public.to_pem().decode(),
        }

    def write(self, vals):
        # Key material is generated by create(), never edited, by anyone: a changed key is
        # a new key. (The published key and our token verification come from public_jwk,
        # so editing it would make us publish and trust a key someone else holds.)
        forbidden = {"kid", "encrypted_private_key", "public_jwk", "public_pem", "algorithm"} & set(
            vals
        )
        if forbidden:
            raise UserError(self.env._("Key material cannot be changed; create a new key instead."))
        self.env.registry.clear_cache()
        return super().write(vals)

    def unlink(self):
        self.env.registry.clear_cache()
        return super().unlink()

    # -- life cycle ---------------------------------------------------------------

    def action_activate(self):
        self.ensure_one()
        if self.state not in ("draft", "retiring"):
            raise UserError(self.env._("Only a draft or retiring key can be activated."))
        now = fields.Datetime.now()
        previous = self.search([("state", "=", "active"), ("id", "!=", self.id)])
        previous.write({"state": "retiring", "retired_at": now})
        self.write({"state": "active", "activated_at": now})
        # the rotation, on both keys' chatter: who did it, and which key signs from now on
        for old in previous:
            old.message_post(
                body=self.env._(
                    "Rotated: %(name)s (kid %(kid)s) signs from now on; this key stays in the "
                    "JWKS while retiring, so peers still verify what it signed.",
                    name=self.name,
                    kid=self.kid,
                )
            )
        self.message_post(
            body=self.env._(
                "Activated: this key (kid %(kid)s) signs our DCI messages from now on%(previous)s.",
                kid=self.kid,
                previous=self.env._(
                    ", replacing %(names)s",
                    names=", ".join(f"{old.name} (kid {old.kid})" for old in previous),
                )
                if previous
                else "",
            )
        )
        return True

    def action_retire(self):
        self.filtered(lambda k: k.state == "active").write(
            {"state": "retiring", "retired_at": fields.Datetime.now()}
        )
        return True

    def action_revoke(self):
        self.filtered(lambda k: k.state != "revoked").write(
            {"state": "revoked", "revoked_at": fields.Datetime.now()}
        )
        return True

    @api.model
    def _cron_expire_keys(self):
        self.search(
            [
                ("state", "in", ("active", "retiring", "draft")),
                ("expires_at", "<=", fields.Datetime.now()),
            ]
        ).write({"state": "expired"})

    @api.model
    def _dci_ensure_active_key(self):
        """Give a fresh installation one active Ed25519 key so it can sign at once."""
        if not self.sudo().search_count([("state", "=", "active")]):
            self.sudo().create({"name": "Initial Ed25519 key"}).action_activate()

    # -- used by the server and the clients ----------------------------------------

    @api.model
    def _dci_signer(self):
        """The active :class:`~spp_dci.dci.keys.SigningKey` (decrypted once per process).

        Cached with Odoo's ``ormcache``: activating, retiring, revoking or creating a
        key clears it here and, through Odoo's cache signalling, in every worker.
        """
        signer, expires_at = self._dci_active_signer()
        if expires_at and expires_at <= fields.Datetime.now():
            # expired since it was cached (the expiry cron has not run yet)
            self.env.registry.clear_cache()
            signer, expires_at = self._dci_active_signer()
        if signer is None:
            raise UserError(
                self.env._("No active DCI signing key: activate one under DCI > Configuration.")
            )
        return signer

    @api.model
    @tools.ormcache()
    def _dci_active_signer(self):
        key = self.sudo().search(
            [
                ("state", "=", "active"),
                "|",
                ("expires_at", "=", False),
                ("expires_at", ">", fields.Datetime.now()),
            ],
            limit=1,
        )
        if not key:
            return None, None
        return key._dci_signing_key(), key.expires_at

    def _dci_signing_key(self):
        """This record's :class:`~spp_dci.dci.keys.SigningKey` (decrypted once, cached)."""
        self.ensure_one()
        key = self.sudo()
        cache_key = (self.env.cr.dbname, key.id, key.kid)
        with _SIGNER_CACHE_LOCK:
            signer = _SIGNER_CACHE.get(cache_key)
        if signer is None:
            signer = dci_keys.SigningKey.from_encrypted_pem(
                key.encrypted_private_key,
                self._dci_at_rest_secret(),
                algorithm=key.algorithm,
                kid=key.kid,
            )
            with _SIGNER_CACHE_LOCK:
                _SIGNER_CACHE[cache_key] = signer
        return signer

    @api.model
    def _dci_jwks(self):
        """Our JWKS document: every key peers should trust now (active and retiring)."""
        return self._dci_published_keys()[0]

    @api.model
    def _dci_public_keys(self):
        """``{kid: PublicKey}`` of our JWKS (verifies our own tokens); cached like the signer."""
        return self._dci_published_keys()[1]

    @api.model
    def _dci_published_keys(self):
        jwks, keys, expires_at = self._dci_published_keys_cached()
        if expires_at and expires_at <= fields.Datetime.now():
            self.env.registry.clear_cache()
            jwks, keys, expires_at = self._dci_published_keys_cached()
        return jwks, keys

    @api.model
    @tools.ormcache()
    def _dci_published_keys_cached(self):
        published = self.sudo().search(
            [
                ("state", "in", PUBLISHED_STATES),
                "|",
                ("expires_at", "=", False),
                ("expires_at", ">", fields.Datetime.now()),
            ]
        )
        keys = [
            dci_keys.PublicKey.from_jwk(key.public_jwk, algorithm=key.algorithm)
            for key in published
        ]
        expiries = [key.expires_at for key in published if key.expires_at]
        return (
            dci_keys.build_jwks(keys),
            {key.kid: key for key in keys},
            min(expiries) if expiries else None,
        )

    @api.model
    def _dci_sender_id(self):
        """Our DCI sender id (``header.sender_id`` and the first part of ``kidId``)."""
        return self.env["ir.config_parameter"].sudo().get_param("spp_dci.sender_id") or "openspp"
