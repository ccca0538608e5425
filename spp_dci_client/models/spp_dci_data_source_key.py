# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
import json

from odoo import api, fields, models
from odoo.addons.spp_dci.dci import keys as dci_keys
from odoo.exceptions import ValidationError

ALGORITHMS = [
    (dci_keys.ED25519, "Ed25519"),
    (dci_keys.RSA_SHA256, "RSA PKCS#1 v1.5 SHA-256"),
    (dci_keys.RSA_PSS_SHA512, "RSA-PSS SHA-512"),
]


class SppDciDataSourceKey(models.Model):
    """A public key of an external registry, entered by hand (PEM or JWK).

    For registries that publish no JWKS, or to pin a key. Looked up by ``kid``
    before the JWKS; public data, so no secret here.
    """

    _name = "spp.dci.data.source.key"
    _description = "DCI Data Source Public Key"
    _order = "data_source_id, id"

    data_source_id = fields.Many2one(
        "spp.dci.data.source", required=True, ondelete="cascade", index=True
    )
    kid = fields.Char(
        string="Key ID",
        help="The key id the registry puts in its signatures (kidId); "
        "empty: the PEM's RFC 7638 thumbprint.",
    )
    algorithm = fields.Selection(ALGORITHMS, help="Required for RSA keys given as PEM.")
    key_data = fields.Text(
        string="Public Key", required=True, help="PEM public key or a public JWK (JSON)."
    )
    active = fields.Boolean(default=True)

    _kid_unique = models.Constraint(
        "UNIQUE(data_source_id, kid)", "Key ids must be unique per data source."
    )

    def _dci_public_key(self) -> dci_keys.PublicKey:
        self.ensure_one()
        text = (self.key_data or "").strip()
        if text.startswith("{"):
            try:
                data = json.loads(text)
            except ValueError as exc:
                raise dci_keys.KeyMaterialError("the JWK is not valid JSON") from exc
            if self.kid and not data.get("kid"):
                data["kid"] = self.kid
            key = dci_keys.PublicKey.from_jwk(data, algorithm=self.algorithm or None)
            if self.kid and key.kid != self.kid:
                raise dci_keys.KeyMaterialError("the JWK's kid differs from the Key ID field")
            return key
        return dci_keys.PublicKey.from_pem(
            text, algorithm=self.algorithm or None, kid=self.kid or None
        )

    @api.constrains("key_data", "algorithm", "kid")
    def _check_key_data(self):
        for key in self:
            try:
                public = key._dci_public_key()
            except dci_keys.KeyMaterialError as exc:
                raise ValidationError(self.env._("Invalid public key: %s", exc)) from exc
            if not key.kid:
                key.kid = public.kid
