"""Signing keys: generation, algorithms, at-rest encryption, JWK/JWKS, reprs."""

import pickle

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from odoo.addons.spp_dci.dci.keys import (
    ED25519,
    RSA_PSS_SHA512,
    RSA_SHA256,
    KeyDecryptionError,
    KeyMaterialError,
    PublicKey,
    SigningKey,
    UnsupportedAlgorithm,
    build_jwks,
    normalize_algorithm,
)
from odoo.tests import tagged
from odoo.tests.common import BaseCase

SECRET = "0123456789abcdef0123456789abcdef"  # 32 bytes, stands in for a database secret

# RFC 8032 section 7.1, TEST 1 (secret key, public key).
RFC8032_SECRET = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
RFC8032_PUBLIC = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
# RFC 8032 TEST 1 signs the empty message with this signature.
RFC8032_SIGNATURE = bytes.fromhex(
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
    "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
)
# RFC 8037 Appendix A.2: the same key as a public JWK, and its A.3 thumbprint.
RFC8037_PUBLIC_JWK = {
    "kty": "OKP",
    "crv": "Ed25519",
    "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
}
RFC8037_THUMBPRINT = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


@tagged("post_install", "-at_install", "dci_core")
class TestSigningKeys(BaseCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # RSA generation is slow; share keys across tests.
        cls.ed_key = SigningKey.generate(ED25519, kid="ed-1")
        cls.rsa_key = SigningKey.generate(RSA_SHA256, kid="rsa-1", rsa_key_size=2048)
        cls.pss_key = SigningKey.from_private_key(
            cls.rsa_key._private_key, algorithm=RSA_PSS_SHA512, kid="pss-1"
        )

    def test_rfc8032_test_vector(self):
        key = SigningKey.from_private_key(
            ed25519.Ed25519PrivateKey.from_private_bytes(RFC8032_SECRET), kid="t1"
        )
        self.assertEqual(key.public_key.key.public_bytes_raw(), RFC8032_PUBLIC)
        self.assertEqual(key.sign(b""), RFC8032_SIGNATURE)
        self.assertTrue(key.public_key.verify(RFC8032_SIGNATURE, b""))

    def test_rfc8037_jwk_and_rfc7638_thumbprint(self):
        public = PublicKey.from_jwk({**RFC8037_PUBLIC_JWK, "kid": "k"})
        self.assertEqual(public.algorithm, ED25519)  # no alg: Ed25519 implies ed25519
        self.assertEqual(public.key.public_bytes_raw(), RFC8032_PUBLIC)
        self.assertEqual(public.thumbprint(), RFC8037_THUMBPRINT)
        generated = SigningKey.from_private_key(
            ed25519.Ed25519PrivateKey.from_private_bytes(RFC8032_SECRET)
        )
        self.assertEqual(generated.kid, RFC8037_THUMBPRINT)  # default kid = RFC 7638 thumbprint

    def test_sign_verify_every_algorithm(self):
        for key in (self.ed_key, self.rsa_key, self.pss_key):
            with self.subTest(algorithm=key.algorithm):
                signature = key.sign(b"payload")
                self.assertTrue(key.public_key.verify(signature, b"payload"))
                self.assertFalse(key.public_key.verify(signature, b"payload!"))
                self.assertFalse(key.public_key.verify(b"\x00" * len(signature), b"payload"))

    def test_rsa_paddings_are_not_interchangeable(self):
        signature = self.rsa_key.sign(b"data")
        self.assertTrue(self.rsa_key.public_key.verify(signature, b"data"))
        self.assertFalse(self.pss_key.public_key.verify(signature, b"data"))
        self.assertFalse(self.rsa_key.public_key.verify(self.pss_key.sign(b"data"), b"data"))

    def test_generate_defaults(self):
        key = SigningKey.generate()
        self.assertEqual(key.algorithm, ED25519)
        self.assertEqual(key.kid, key.public_key.thumbprint())
        with self.assertRaises(KeyMaterialError):
            SigningKey.generate(RSA_SHA256, rsa_key_size=1024)

    def test_algorithm_names(self):
        self.assertEqual(normalize_algorithm("Ed25519"), ED25519)
        self.assertEqual(normalize_algorithm("rsa-v1_5-sha256"), RSA_SHA256)
        self.assertEqual(normalize_algorithm("RSA-PSS-SHA512"), RSA_PSS_SHA512)
        for bad in ("hs2019", "hmac-sha256", "", None):
            with self.subTest(name=bad), self.assertRaises(UnsupportedAlgorithm):
                normalize_algorithm(bad)

    def test_algorithm_must_fit_key(self):
        with self.assertRaises(KeyMaterialError):
            SigningKey("x", RSA_SHA256, ed25519.Ed25519PrivateKey.generate())
        with self.assertRaises(KeyMaterialError):
            SigningKey("x", ED25519, self.rsa_key._private_key)
        weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
        with self.assertRaises(KeyMaterialError):
            SigningKey("x", RSA_SHA256, weak)
        with self.assertRaises(KeyMaterialError):
            SigningKey.from_private_key(
                self.rsa_key._private_key
            )  # RSA needs an explicit algorithm

    def test_encrypted_at_rest_round_trip(self):
        for key in (self.ed_key, self.pss_key):
            with self.subTest(algorithm=key.algorithm):
                pem = key.to_encrypted_pem(SECRET)
                self.assertTrue(pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----"))
                loaded = SigningKey.from_encrypted_pem(
                    pem, SECRET, algorithm=key.algorithm, kid=key.kid
                )
                self.assertEqual(loaded.public_key, key.public_key)
                self.assertTrue(key.public_key.verify(loaded.sign(b"m"), b"m"))
                # the PEM is standard PKCS#8: cryptography opens it with the same secret
                raw = serialization.load_pem_private_key(pem, password=SECRET.encode())
                self.assertEqual(
                    PublicKey(key.kid, key.algorithm, raw.public_key()), key.public_key
                )

    def test_wrong_secret_and_plaintext_pem_are_refused(self):
        pem = self.ed_key.to_encrypted_pem(SECRET)
        with self.assertRaises(KeyDecryptionError):
            SigningKey.from_encrypted_pem(pem, SECRET[::-1])
        plain = self.ed_key._private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        with self.assertRaises(KeyMaterialError):
            SigningKey.from_encrypted_pem(plain, SECRET)
        with self.assertRaises(KeyMaterialError):
            self.ed_key.to_encrypted_pem("short")  # low-entropy secrets are refused
        with self.assertRaises(KeyDecryptionError):
            SigningKey.from_encrypted_pem(pem.replace(b"A", b"B", 3), SECRET)

    def test_repr_hides_private_material(self):
        pem_body = b"".join(
            self.ed_key._private_key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ).splitlines()[1:-1]
        ).decode()
        raw_hex = self.ed_key._private_key.private_bytes_raw().hex()
        for text in (repr(self.ed_key), str(self.ed_key), f"{self.ed_key}", repr([self.ed_key])):
            self.assertIn("ed-1", text)
            self.assertIn("hidden", text)
            self.assertNotIn(pem_body, text)
            self.assertNotIn(raw_hex, text)
        self.assertFalse(hasattr(self.ed_key, "__dict__"))
        with self.assertRaises(TypeError):
            pickle.dumps(self.ed_key)

    def test_public_jwk_export(self):
        jwk = self.ed_key.public_key.to_jwk()
        self.assertEqual(jwk["kty"], "OKP")
        self.assertEqual(jwk["crv"], "Ed25519")
        self.assertEqual((jwk["kid"], jwk["alg"], jwk["use"]), ("ed-1", "EdDSA", "sig"))
        self.assertNotIn("d", jwk)
        rsa_jwk = self.pss_key.public_key.to_jwk()
        self.assertEqual((rsa_jwk["kty"], rsa_jwk["alg"], rsa_jwk["e"]), ("RSA", "PS512", "AQAB"))
        self.assertNotIn("d", rsa_jwk)
        self.assertEqual(self.rsa_key.public_key.to_jwk()["alg"], "RS256")

    def test_jwk_round_trip(self):
        for key in (self.ed_key, self.rsa_key, self.pss_key):
            with self.subTest(algorithm=key.algorithm):
                loaded = PublicKey.from_jwk(key.public_key.to_jwk())
                self.assertEqual(loaded, key.public_key)
                self.assertTrue(loaded.verify(key.sign(b"x"), b"x"))

    def test_jwk_refusals(self):
        jwk = self.rsa_key.public_key.to_jwk()
        for bad in (
            {k: v for k, v in jwk.items() if k != "alg"},  # RSA without alg
            {**jwk, "use": "enc"},
            {k: v for k, v in jwk.items() if k != "kid"},
            {**jwk, "alg": "RS512"},
            {**jwk, "n": "not*base64"},
            {**RFC8037_PUBLIC_JWK, "kid": "k", "x": "AAAA"},
            {**RFC8037_PUBLIC_JWK, "kid": "k", "alg": "RS256"},
            ["not", "an", "object"],
        ):
            with self.subTest(jwk=str(bad)[:60]), self.assertRaises(KeyMaterialError):
                PublicKey.from_jwk(bad)
        # RSA without alg is fine when the caller states the algorithm
        no_alg = {k: v for k, v in jwk.items() if k != "alg"}
        self.assertEqual(PublicKey.from_jwk(no_alg, algorithm=RSA_SHA256).algorithm, RSA_SHA256)

    def test_private_jwk_members_are_ignored(self):
        jwk = {
            **RFC8037_PUBLIC_JWK,
            "kid": "k",
            "d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",  # RFC 8037 A.1
        }
        public = PublicKey.from_jwk(jwk)
        self.assertIsInstance(public.key, ed25519.Ed25519PublicKey)
        self.assertNotIn("d", public.to_jwk())

    def test_pem_public_keys(self):
        for key in (self.ed_key, self.pss_key):
            with self.subTest(algorithm=key.algorithm):
                loaded = PublicKey.from_pem(
                    key.public_key.to_pem(), algorithm=key.algorithm, kid=key.kid
                )
                self.assertEqual(loaded, key.public_key)
        self.assertEqual(
            PublicKey.from_pem(self.ed_key.public_key.to_pem()).kid,
            self.ed_key.public_key.thumbprint(),
        )
        with self.assertRaises(KeyMaterialError):
            PublicKey.from_pem(self.rsa_key.public_key.to_pem())  # RSA needs the algorithm
        with self.assertRaises(KeyMaterialError):
            PublicKey.from_pem(
                b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", algorithm=ED25519
            )

    def test_jwks_document(self):
        document = build_jwks([self.ed_key, self.rsa_key.public_key])
        self.assertEqual([k["kid"] for k in document["keys"]], ["ed-1", "rsa-1"])
        self.assertTrue(all("d" not in k and k["use"] == "sig" for k in document["keys"]))
        loaded = [PublicKey.from_jwk(k) for k in document["keys"]]
        self.assertEqual(loaded, [self.ed_key.public_key, self.rsa_key.public_key])
        with self.assertRaises(KeyMaterialError):
            build_jwks([self.ed_key, self.ed_key.public_key])
