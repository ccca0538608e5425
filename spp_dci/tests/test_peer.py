import json

from odoo.exceptions import ValidationError
from odoo.tests import TransactionCase, tagged

from ..dci import keys as dci_keys
from ..dci.envelope import build_envelope
from ..dci.signature import BadSignature, MalformedSignature, SenderMismatch, UnknownSigningKey


@tagged("post_install", "-at_install")
class TestPeer(TransactionCase):
    """One peer model, one key model with one kid rule, one signature check."""

    def setUp(self):
        super().setUp()
        self.Peer = self.env["spp.dci.peer"]
        self.signer = dci_keys.SigningKey.generate()
        self.peer = self.Peer.create({"name": "CRVS", "dci_id": "crvs.peer.test"})

    def key(self, **vals):
        return self.env["spp.dci.peer.key"].create({"peer_id": self.peer.id, **vals})

    def envelope(self, sender_id="crvs.peer.test", signer=None, header_sender=True):
        header = {"message_id": "m1", "action": "on-search"}
        if header_sender:
            header["sender_id"] = sender_id
        return build_envelope(header, {"transaction_id": "t"}, signer or self.signer, sender_id)

    def test_kid_rule(self):
        pem = self.signer.public_key.to_pem().decode()
        thumbprint = dci_keys.PublicKey.from_pem(pem).kid
        self.assertEqual(self.key(public_key=pem).kid, thumbprint, "PEM: its thumbprint")
        jwk = self.signer.public_key.to_jwk()
        jwk["kid"] = "own-kid"
        self.assertEqual(self.key(public_key=json.dumps(jwk)).kid, "own-kid", "JWK: its kid")
        named = self.key(public_key=pem, kid="named")
        self.assertEqual(named._dci_public_key().kid, "named", "a Key ID names a PEM")
        with self.assertRaisesRegex(ValidationError, "differs from the Key ID"):
            self.key(public_key=json.dumps(jwk), kid="another")
        with self.assertRaisesRegex(ValidationError, "Invalid public key"):
            self.key(public_key="not a key")
        with self.assertRaises(ValidationError):
            self.Peer.create({"name": "bad", "dci_id": "a|b"})

    def test_one_verification_of_a_peer_message(self):
        self.key(public_key=self.signer.public_key.to_pem().decode(), kid=self.signer.kid)
        keys = self.peer._dci_peer_keys()
        self.assertEqual(set(keys.keys), {self.signer.kid})
        verified = keys.verify(self.envelope())
        self.assertEqual(verified.key_id, self.signer.kid)
        forged = dci_keys.SigningKey.generate(kid=self.signer.kid)  # another key, same kid
        with self.assertRaises(BadSignature):
            keys.verify(self.envelope(signer=forged))
        with self.assertRaises(UnknownSigningKey):  # signed under another peer's id
            keys.verify(self.envelope(sender_id="someone.else"))
        with self.assertRaises(SenderMismatch):
            keys.verify(self.envelope(), expected_sender_id="someone.else")
        # a callback header without sender_id: the signer must be this peer
        envelope = self.envelope(header_sender=False)
        self.assertRaises(MalformedSignature, keys.verify, envelope)
        self.assertEqual(keys.verify(envelope, callback=True).key_id, self.signer.kid)
        self.peer.key_ids.active = False
        self.assertFalse(self.peer._dci_peer_keys().has_keys)

    def test_direction_records_join_the_peer_of_their_id(self):
        vals = self.Peer._dci_link_vals(
            [
                {"name": "x", "client_id": "crvs.peer.test"},
                {"name": "New", "client_id": "new.peer"},
            ],
            "client_id",
        )
        self.assertEqual(vals[0]["peer_id"], self.peer.id)
        new = self.Peer.browse(vals[1]["peer_id"])
        self.assertEqual((new.name, new.dci_id), ("New", "new.peer"))
        self.assertNotIn("client_id", vals[0])
        with self.assertRaises(ValidationError):
            self.peer.jwks_url = "ftp://example.org/jwks.json"
