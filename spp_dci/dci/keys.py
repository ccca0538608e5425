"""Signing keys for DCI: generation, at-rest encryption, JWK/JWKS and PEM I/O.

Primitives come from ``cryptography``; JWK encoding and RFC 7638 thumbprints
from ``jwcrypto``. This module only adds the DCI naming of algorithms and the
rules we enforce (key sizes, encrypted private keys, no secrets in reprs).

Algorithms (the names used in the DCI ``kidId``/``algorithm`` signature
parameters and, for HTTP, in RFC 9421):

=================  ==========================  =========  =========================
DCI name           primitive                   JWK alg    RFC 9421 alg
=================  ==========================  =========  =========================
``ed25519``        Ed25519 (RFC 8032)          EdDSA      ``ed25519``
``rsa-sha256``     RSASSA-PKCS1-v1_5 SHA-256   RS256      ``rsa-v1_5-sha256``
``rsa-pss-sha512`` RSASSA-PSS SHA-512, MGF1    PS512      ``rsa-pss-sha512``
                   SHA-512, 64-byte salt
=================  ==========================  =========  =========================

Private keys at rest: PKCS#8 PEM encrypted with the caller's secret through
``BestAvailableEncryption`` (today PBES2: PBKDF2-HMAC-SHA256 + AES-256-CBC).
We chose the standard container over a home-made Fernet wrapper because it is
self-describing (salt, KDF and cipher travel inside the PEM), needs no extra
format of ours, and ``openssl pkey -in key.pem`` can open it for audits or
migrations. Its PBKDF2 iteration count is low (cryptography uses 2048), so the
secret must be a machine-generated high-entropy value (e.g. the database
secret or 32 random bytes), not a human password; we reject secrets shorter
than :data:`MIN_SECRET_BYTES`.
"""

import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa
from jwcrypto import jwk

__all__ = [
    "ALGORITHM_ALIASES",
    "ED25519",
    "JWS_ALGORITHMS",
    "MIN_RSA_KEY_SIZE",
    "MIN_SECRET_BYTES",
    "RSA_PSS_SHA512",
    "RSA_SHA256",
    "SUPPORTED_ALGORITHMS",
    "KeyDecryptionError",
    "KeyMaterialError",
    "PublicKey",
    "SigningKey",
    "UnsupportedAlgorithm",
    "build_jwks",
    "normalize_algorithm",
]

ED25519 = "ed25519"
RSA_SHA256 = "rsa-sha256"
RSA_PSS_SHA512 = "rsa-pss-sha512"
SUPPORTED_ALGORITHMS = (ED25519, RSA_SHA256, RSA_PSS_SHA512)

# Other spellings accepted on input (RFC 9421 registry, JWS names).
ALGORITHM_ALIASES = {
    "rsa-v1_5-sha256": RSA_SHA256,
    "eddsa": ED25519,
    "rs256": RSA_SHA256,
    "ps512": RSA_PSS_SHA512,
}

# JWK ``alg`` we publish per algorithm ("EdDSA" per RFC 8037, the widely supported one).
JWS_ALGORITHMS = {ED25519: "EdDSA", RSA_SHA256: "RS256", RSA_PSS_SHA512: "PS512"}
_FROM_JWS = {
    "EdDSA": ED25519,
    "Ed25519": ED25519,  # fully-specified name (RFC 9864)
    "RS256": RSA_SHA256,
    "PS512": RSA_PSS_SHA512,
}

MIN_RSA_KEY_SIZE = 2048
DEFAULT_RSA_KEY_SIZE = 3072
MIN_SECRET_BYTES = 16

# RFC 9421 section 3.3.1 fixes the PSS salt at 64 bytes; JWS PS512 uses the same.
_PSS_PADDING = padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64)


class KeyMaterialError(ValueError):
    """Key data is invalid, of an unsupported type, or used inconsistently."""


class UnsupportedAlgorithm(KeyMaterialError):
    """The signature algorithm name is not one DCI supports here."""


class KeyDecryptionError(KeyMaterialError):
    """The encrypted private key could not be opened (wrong secret or corrupt PEM)."""


def normalize_algorithm(name: str) -> str:
    """Return the DCI algorithm name for ``name`` (case-insensitive, aliases allowed)."""
    if not isinstance(name, str):
        raise UnsupportedAlgorithm(f"algorithm must be a string, got {type(name).__name__}")
    lowered = name.strip().lower()
    lowered = ALGORITHM_ALIASES.get(lowered, lowered)
    if lowered not in SUPPORTED_ALGORITHMS:
        raise UnsupportedAlgorithm(f"unsupported signature algorithm {name!r}")
    return lowered


def _secret_bytes(secret) -> bytes:
    if isinstance(secret, str):
        secret = secret.encode("utf-8")
    if not isinstance(secret, bytes | bytearray):
        raise KeyMaterialError("the at-rest secret must be str or bytes")
    if len(secret) < MIN_SECRET_BYTES:
        raise KeyMaterialError(
            f"the at-rest secret must be at least {MIN_SECRET_BYTES} bytes of high-entropy data"
        )
    return bytes(secret)


def _check_key_matches(algorithm: str, key) -> None:
    """Refuse an algorithm that does not fit the key type (or a weak RSA key)."""
    if algorithm == ED25519:
        if not isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
            raise KeyMaterialError("algorithm ed25519 needs an Ed25519 key")
        return
    if not isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        raise KeyMaterialError(f"algorithm {algorithm} needs an RSA key")
    if key.key_size < MIN_RSA_KEY_SIZE:
        raise KeyMaterialError(
            f"RSA keys must have at least {MIN_RSA_KEY_SIZE} bits, got {key.key_size}"
        )


def _default_algorithm(key, algorithm):
    if algorithm is not None:
        return normalize_algorithm(algorithm)
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return ED25519
    # An RSA key can serve two algorithms; guessing would make verification flaky.
    raise KeyMaterialError("an algorithm is required for RSA keys (rsa-sha256 or rsa-pss-sha512)")


def _thumbprint(public_key) -> str:
    """RFC 7638 JWK thumbprint (SHA-256, base64url) - the kid the DCI JWKS spec asks for."""
    return jwk.JWK.from_pyca(public_key).thumbprint(hashes.SHA256())


class PublicKey:
    """A verification key: key id, DCI algorithm and a ``cryptography`` public key."""

    __slots__ = ("algorithm", "key", "kid")

    def __init__(self, kid: str, algorithm: str, key):
        algorithm = normalize_algorithm(algorithm)
        _check_key_matches(algorithm, key)
        if isinstance(key, ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey):
            raise KeyMaterialError("PublicKey must not hold a private key")
        if not kid or not isinstance(kid, str):
            raise KeyMaterialError("a non-empty kid is required")
        self.kid = kid
        self.algorithm = algorithm
        self.key = key

    def __repr__(self):
        return f"PublicKey(kid={self.kid!r}, algorithm={self.algorithm!r})"

    def __eq__(self, other):
        if not isinstance(other, PublicKey):
            return NotImplemented
        return (self.kid, self.algorithm, self.to_pem()) == (
            other.kid,
            other.algorithm,
            other.to_pem(),
        )

    def __hash__(self):
        return hash((self.kid, self.algorithm, hashlib.sha256(self.to_pem()).digest()))

    def verify(self, signature: bytes, data: bytes) -> bool:
        """True when ``signature`` is valid for ``data``; a bad signature never raises."""
        try:
            if self.algorithm == ED25519:
                self.key.verify(signature, data)
            elif self.algorithm == RSA_SHA256:
                self.key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
            else:
                self.key.verify(signature, data, _PSS_PADDING, hashes.SHA512())
        except (InvalidSignature, TypeError, ValueError):
            return False
        return True

    def thumbprint(self) -> str:
        """RFC 7638 SHA-256 thumbprint of the key (independent of kid/alg)."""
        return _thumbprint(self.key)

    def to_jwk(self) -> dict:
        """Public JWK: ``kty``, ``crv``/``x`` or ``n``/``e``, ``kid``, ``alg``, ``use: "sig"``."""
        data = jwk.JWK.from_pyca(self.key).export_public(as_dict=True)
        data.update(kid=self.kid, alg=JWS_ALGORITHMS[self.algorithm], use="sig")
        return data

    def to_pem(self) -> bytes:
        """SubjectPublicKeyInfo PEM."""
        return self.key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    @classmethod
    def from_jwk(cls, data: dict, *, algorithm: str | None = None) -> "PublicKey":
        """Load a public JWK (as published in a peer's JWKS).

        The algorithm comes from the JWK ``alg`` (EdDSA/Ed25519, RS256, PS512) or
        the ``algorithm`` argument; an RSA JWK without either is refused because
        the verifier must know which padding the signer used. Keys marked
        ``use: "enc"`` are refused. Any private members are ignored.
        """
        if not isinstance(data, dict):
            raise KeyMaterialError("a JWK must be a JSON object")
        if data.get("use") not in (None, "sig"):
            raise KeyMaterialError(f"JWK use {data.get('use')!r} is not a signature key")
        kid = data.get("kid")
        if not isinstance(kid, str) or not kid:
            raise KeyMaterialError("the JWK has no kid")
        try:
            key = jwk.JWK(**data).get_op_key("verify")
        except Exception as exc:  # jwcrypto raises a mix of its own errors and ValueError
            raise KeyMaterialError(f"invalid JWK {kid!r}: {exc}") from exc
        if isinstance(key, ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey):
            key = key.public_key()
        jwk_alg = data.get("alg")
        if jwk_alg is not None:
            if jwk_alg not in _FROM_JWS:
                raise UnsupportedAlgorithm(f"unsupported JWK alg {jwk_alg!r}")
            from_jwk = _FROM_JWS[jwk_alg]
            if algorithm is not None and normalize_algorithm(algorithm) != from_jwk:
                raise KeyMaterialError(f"JWK alg {jwk_alg!r} does not match {algorithm!r}")
            algorithm = from_jwk
        return cls(kid, _default_algorithm(key, algorithm), key)

    @classmethod
    def from_pem(cls, pem, *, algorithm: str | None = None, kid: str | None = None) -> "PublicKey":
        """Load a PEM public key (SPKI or PKCS#1 ``RSA PUBLIC KEY``).

        ``kid`` defaults to the RFC 7638 thumbprint.
        """
        if isinstance(pem, str):
            pem = pem.encode("ascii")
        try:
            key = serialization.load_pem_public_key(pem)
        except (ValueError, TypeError) as exc:
            raise KeyMaterialError(f"invalid PEM public key: {exc}") from exc
        if not isinstance(key, ed25519.Ed25519PublicKey | rsa.RSAPublicKey):
            raise KeyMaterialError(f"unsupported public key type {type(key).__name__}")
        return cls(kid or _thumbprint(key), _default_algorithm(key, algorithm), key)


class SigningKey:
    """A private signing key with its kid and DCI algorithm.

    The private key never appears in ``repr``/``str``; serialise it only with
    :meth:`to_encrypted_pem`.
    """

    __slots__ = ("_private_key", "algorithm", "kid")

    def __init__(self, kid: str, algorithm: str, private_key):
        algorithm = normalize_algorithm(algorithm)
        if not isinstance(private_key, ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey):
            raise KeyMaterialError("SigningKey needs an Ed25519 or RSA private key")
        _check_key_matches(algorithm, private_key)
        if not kid or not isinstance(kid, str):
            raise KeyMaterialError("a non-empty kid is required")
        self.kid = kid
        self.algorithm = algorithm
        self._private_key = private_key

    def __repr__(self):
        return f"SigningKey(kid={self.kid!r}, algorithm={self.algorithm!r}, private_key=<hidden>)"

    __str__ = __repr__

    def __reduce__(self):
        # Pickling would write the private key unencrypted (e.g. into a cache).
        raise TypeError("SigningKey cannot be pickled; use to_encrypted_pem()")

    @classmethod
    def generate(
        cls,
        algorithm: str = ED25519,
        *,
        kid: str | None = None,
        rsa_key_size: int = DEFAULT_RSA_KEY_SIZE,
    ) -> "SigningKey":
        """Create a new key; ``kid`` defaults to the RFC 7638 thumbprint of its public key."""
        algorithm = normalize_algorithm(algorithm)
        if algorithm == ED25519:
            private_key = ed25519.Ed25519PrivateKey.generate()
        else:
            if rsa_key_size < MIN_RSA_KEY_SIZE:
                raise KeyMaterialError(f"RSA keys must have at least {MIN_RSA_KEY_SIZE} bits")
            private_key = rsa.generate_private_key(public_exponent=65537, key_size=rsa_key_size)
        return cls(kid or _thumbprint(private_key.public_key()), algorithm, private_key)

    @classmethod
    def from_private_key(
        cls, private_key, *, algorithm: str | None = None, kid: str | None = None
    ) -> "SigningKey":
        """Wrap an existing ``cryptography`` private key object."""
        if not isinstance(private_key, ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey):
            raise KeyMaterialError("unsupported private key type")
        return cls(
            kid or _thumbprint(private_key.public_key()),
            _default_algorithm(private_key, algorithm),
            private_key,
        )

    @property
    def public_key(self) -> PublicKey:
        return PublicKey(self.kid, self.algorithm, self._private_key.public_key())

    def sign(self, data: bytes) -> bytes:
        """Sign ``data`` with this key's algorithm; returns the raw signature bytes."""
        if self.algorithm == ED25519:
            return self._private_key.sign(data)
        if self.algorithm == RSA_SHA256:
            return self._private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        return self._private_key.sign(data, _PSS_PADDING, hashes.SHA512())

    def to_encrypted_pem(self, secret) -> bytes:
        """PKCS#8 PEM encrypted with ``secret`` (see the module doc for the format choice)."""
        return self._private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(_secret_bytes(secret)),
        )

    @classmethod
    def from_encrypted_pem(
        cls, pem, secret, *, algorithm: str | None = None, kid: str | None = None
    ) -> "SigningKey":
        """Open a PEM written by :meth:`to_encrypted_pem`.

        Unencrypted PEMs are refused so a plaintext key cannot slip into storage.
        :raises KeyDecryptionError: wrong secret or damaged PEM.
        """
        if isinstance(pem, str):
            pem = pem.encode("ascii")
        password = _secret_bytes(secret)
        try:
            private_key = serialization.load_pem_private_key(pem, password=password)
        except TypeError as exc:
            # cryptography raises TypeError when the PEM is not encrypted.
            raise KeyMaterialError(
                "the private key PEM is not encrypted; refusing to load it"
            ) from exc
        except ValueError as exc:
            raise KeyDecryptionError(
                "cannot decrypt the private key: wrong secret or damaged PEM"
            ) from exc
        return cls.from_private_key(private_key, algorithm=algorithm, kid=kid)


def build_jwks(keys) -> dict:
    """Return a JWKS document ``{"keys": [...]}`` of public JWKs.

    Accepts :class:`PublicKey` or :class:`SigningKey` items (only the public
    part is exported). Duplicate kids are refused: peers look keys up by kid.
    """
    seen = set()
    out = []
    for key in keys:
        if isinstance(key, SigningKey):
            key = key.public_key
        if not isinstance(key, PublicKey):
            raise KeyMaterialError(f"cannot publish {type(key).__name__} in a JWKS")
        if key.kid in seen:
            raise KeyMaterialError(f"duplicate kid {key.kid!r} in JWKS")
        seen.add(key.kid)
        out.append(key.to_jwk())
    return {"keys": out}
