"""When our private keys no longer decrypt: say so at start-up, recover from the UI.

The private keys are encrypted with the ``key_secret`` of the Odoo configuration. Run with
another secret (a lost or regenerated one) and the database still holds the keys, but
nothing can sign: every token request and every signed answer fails. That is found at
registry load, not at the first request, and an administrator can replace the key pair.
"""

import logging

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..dci import keys as dci_keys

_logger = logging.getLogger(__name__)

# (database, key id, kid) already reported in this process: the hook also runs when a
# registry is reloaded (module install, custom fields) and prefork workers inherit the
# master's registry, so the report is made once.
_REPORTED = set()


class SppDciSigningKey(models.Model):
    _inherit = "spp.dci.signing.key"

    private_key_readable = fields.Boolean(
        compute="_compute_private_key_readable",
        help="The private key decrypts with the key secret of this Odoo configuration.",
    )

    def _compute_private_key_readable(self):
        for key in self:
            key.private_key_readable = key._dci_private_key_readable()

    def _dci_private_key_readable(self):
        self.ensure_one()
        if not self.id:
            return True  # a key being created: its material does not exist yet
        try:
            self._dci_signing_key()
        except dci_keys.KeyMaterialError:
            return False
        return True

    def _register_hook(self):
        super()._register_hook()
        self._dci_check_active_key()

    @api.model
    def _dci_check_active_key(self):
        """Log once, as CRITICAL, when the active key does not decrypt with our secret."""
        try:
            with self.env.cr.savepoint(flush=False):
                key = self.sudo().search([("state", "=", "active")], limit=1)
                if not key or key._dci_private_key_readable():
                    return
        except Exception:  # a check must never stop the registry from loading
            _logger.exception("DCI: could not check the active signing key at start-up")
            return
        reported = (self.env.cr.dbname, key.id, key.kid)
        if reported in _REPORTED:
            return
        _REPORTED.add(reported)
        _logger.critical(
            "DCI: the active signing key %r (kid %s) of database %s cannot be decrypted with "
            "the configured key secret ([spp_dci] key_secret or SPP_DCI_KEY_SECRET): every DCI "
            "token request and every signed answer fails (HTTP 503) until this is fixed. "
            "Either restore the key secret this database's keys were encrypted with (make run "
            "keeps it in ~/.local/share/spp_dci/key_secrets/<database>, docker-compose in the "
            "odoo-data volume) and restart, or, as a DCI administrator, open DCI > "
            "Configuration > Signing Keys, this key, and click 'Replace the key pair' "
            "(a new key under the current secret; peers take it from our JWKS).",
            key.name,
            key.kid,
            self.env.cr.dbname,
        )

    def action_replace_key_pair(self):
        """Replace the active key whose private key no longer decrypts.

        The new key pair is made under the current secret and activated; the old one is
        revoked, so it leaves the JWKS at once: nobody can sign with it any more, and what
        it signed was verified when it was received.
        """
        self.ensure_one()
        self.check_access("write")
        if self.state != "active" or self._dci_private_key_readable():
            raise UserError(
                self.env._(
                    "Only the active key whose private key cannot be decrypted is replaced "
                    "here. To rotate a working key, create a key and activate it."
                )
            )
        # sudo: create() writes the encrypted private key it generates, a field for system
        # administrators only; the caller chooses nothing but what the old key had.
        replacement = (
            self.sudo()
            .create(
                {
                    "name": self.env._("%(name)s (replacement)", name=self.name),
                    "algorithm": self.algorithm,
                }
            )
            .with_env(self.env)
        )
        replacement.action_activate()
        self.action_revoke()
        self.message_post(
            body=self.env._(
                "The private key could not be decrypted with the configured key secret: "
                "replaced by %(name)s (kid %(kid)s) and revoked, so it is no longer in the JWKS.",
                name=replacement.name,
                kid=replacement.kid,
            )
        )
        replacement.message_post(
            body=self.env._(
                "Made and activated to replace %(name)s (kid %(kid)s), whose private key could "
                "not be decrypted with the configured key secret. Peers take it from our JWKS.",
                name=self.name,
                kid=self.kid,
            )
        )
        _logger.info(
            "DCI: signing key %s replaced by %s (undecryptable private key), by user %s",
            self.kid,
            replacement.kid,
            self.env.uid,
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": replacement.id,
            "view_mode": "form",
            "target": "current",
        }
