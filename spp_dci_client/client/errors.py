# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
"""What can go wrong when we talk to a DCI registry, in plain words.

Every failure of the client is a :class:`DCIClientError` whose ``str()`` is a
sentence an administrator can act on ("The registry's TLS certificate is not
trusted ..."), and whose ``kind`` is a short stable token (``dns``, ``tls``,
``timeout``, ``auth``, ``signature``, ``spec`` ...) for the exchange log and the
"Test connection" button. Messages never contain secrets, tokens or payloads.
"""

__all__ = [
    "AuthenticationError",
    "ConfigurationError",
    "DCIClientError",
    "DuplicateAfterTimeout",
    "ProtocolMismatch",
    "RegistryHTTPError",
    "RegistryRejected",
    "SignatureVerificationError",
    "SpecViolation",
    "TransportError",
]


class DCIClientError(Exception):
    """Base class; ``kind`` names the failure class, ``str()`` explains it."""

    kind = "error"

    def __init__(self, message, *, kind=None, http_status=None, code=None):
        super().__init__(message)
        self.message = message
        if kind:
            self.kind = kind
        self.http_status = http_status
        self.code = code

    def __str__(self):
        return self.message


class ConfigurationError(DCIClientError):
    """The data source is not usable as configured (missing URL, key, secret...)."""

    kind = "config"


class TransportError(DCIClientError):
    """No usable HTTP answer: ``kind`` is dns, tls, connect, timeout or network."""

    kind = "network"


class AuthenticationError(DCIClientError):
    """The registry or its token endpoint refused our credentials (401/403)."""

    kind = "auth"


class RegistryHTTPError(DCIClientError):
    """The registry answered with an HTTP error status (4xx/5xx)."""

    kind = "http"


class RegistryRejected(DCIClientError):
    """A well-formed refusal (ACK ``ERR``/``NACK``, ``status: rjct``); ``code``: the spec code."""

    kind = "rejected"


class DuplicateAfterTimeout(DCIClientError):
    """An attempt timed out and the registry refused the re-send as ``rjct.message_id.duplicate``.

    The registry has the first attempt: the request is not rejected, its answer was
    lost to the timeout (a registry that repeats the first answer never raises this).
    """

    kind = "duplicate"


class SignatureVerificationError(DCIClientError):
    """The answer's signature is missing, forged, expired or from an unknown key."""

    kind = "signature"


class SpecViolation(DCIClientError):
    """The answer is not what the DCI 1.0.0 spec says it must be (or not JSON at all)."""

    kind = "spec"


class ProtocolMismatch(DCIClientError):
    """The answer is valid DCI but not an answer to our request (ids do not match)."""

    kind = "protocol"
