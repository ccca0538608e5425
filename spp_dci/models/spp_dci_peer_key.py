import json

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..dci import keys as dci_keys

ALGORITHMS = [
    (dci_keys.ED25519, "Ed25519"),
    (dci_keys.RSA_SHA256, "RSA PKCS#1 v1.5 SHA-256"),
    (dci_keys.RSA_PSS_SHA512, "RSA-PSS SHA-512"),
]


class SppDciPeerKey(models.Model):
    """A public signature key of a peer, registered by hand (PEM or JWK).

    For peers that publish no JWKS, or to pin a key. Looked up by ``kid`` before
    the peer's JWKS; public data, so no secret here.

    The kid rule (one for every direction): the key is found under its **Key ID**.
    Left empty, it is filled in from the key: a JWK's own ``kid``, a PEM's RFC 7638
    thumbprint. A JWK whose ``kid`` differs from the Key ID is refused.
    """

    _name = "spp.dci.peer.key"
    _description = "DCI Peer Public Key"
    _order = "peer_id, id"
    _inherit = ["spp.dci.cached.mixin"]
    _rec_name = "kid"

    peer_id = fields.Many2one("spp.dci.peer", required=True, ondelete="cascade", index=True)
    active = fields.Boolean(default=True)
    kid = fields.Char(
        string="Key ID",
        help="The key id of the peer's signatures (kidId = dci id|key id|algorithm). Empty: "
        "a JWK's kid, a PEM's RFC 7638 thumbprint.",
    )
    algorithm = fields.Selection(
        ALGORITHMS, help="Empty: from the key (JWK alg, Ed25519). Required for RSA PEM keys."
    )
    public_key = fields.Text(
        required=True, help="PEM (SubjectPublicKeyInfo) or a public JWK as JSON."
    )

    _peer_kid_unique = models.Constraint(
        "UNIQUE(peer_id, kid)", "This key id is already registered for this peer."
    )

    @api.constrains("public_key", "algorithm", "kid")
    def _check_public_key(self):
        for key in self:
            public = key._dci_public_key()
            if not key.kid:
                key.kid = public.kid

    def _dci_public_key(self) -> dci_keys.PublicKey:
        """The key as a :class:`~..dci.keys.PublicKey` (``ValidationError`` if unusable)."""
        self.ensure_one()
        try:
            return parse_public_key(self.public_key, self.kid or None, self.algorithm or None)
        except dci_keys.KeyMaterialError as exc:
            raise ValidationError(_("Invalid public key: %s", exc)) from exc


def parse_public_key(text, kid=None, algorithm=None) -> dci_keys.PublicKey:
    """A PEM or JWK text as a PublicKey under the kid rule of :class:`SppDciPeerKey`."""
    text = (text or "").strip()
    if not text.startswith("{"):
        return dci_keys.PublicKey.from_pem(text, algorithm=algorithm, kid=kid)
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise dci_keys.KeyMaterialError("the JWK is not valid JSON") from exc
    if not isinstance(data, dict):
        raise dci_keys.KeyMaterialError("a JWK must be a JSON object")
    if kid and not data.get("kid"):
        data = {**data, "kid": kid}
    key = dci_keys.PublicKey.from_jwk(data, algorithm=algorithm)
    if kid and key.kid != kid:
        raise dci_keys.KeyMaterialError("the JWK's kid differs from the Key ID field")
    return key
