"""RFC 9421 request signatures on what we receive: verified when present, required by policy.

The DCI body signature (``checks.check_envelope``) is the spec's; an RFC 9421
signature (``Signature-Input``, ``Signature``, ``Content-Digest``) is the
transport-level one we also put on our answers and callbacks. A peer may add
it to its requests and callbacks:

* **present** (a ``Signature-Input`` header): verified with the one verifier
  (``spp_dci.dci.http_signature.verify_request``) against the peer's keys (its
  registered keys, then its JWKS through the shared cache), over the URL as the
  peer addressed it, the exact body bytes and their ``Content-Digest``. Any
  failure is ``err.signature.invalid`` (401), a JWKS that cannot be read 503;
* **absent**: accepted, unless the peer's policy requires it
  (``spp.dci.sender.require_http_signature``; on the receiver paths also
  ``spp.dci.inbox._dci_requires_http_signature``, which spp_dci_client extends
  with its data sources' setting): ``err.signature.missing`` (401).

A ``Signature`` header without ``Signature-Input`` is not an RFC 9421 signature
(e.g. the draft-cavage header of the DCI ``Signature`` security scheme): it is
left alone, as the body signature is what the DCI spec verifies.
"""

from odoo.addons.spp_dci.dci.codes import ErrorCode
from odoo.addons.spp_dci.dci.errors import DCIError
from odoo.addons.spp_dci.dci.http_signature import verify_request
from odoo.addons.spp_dci.dci.signature import SignatureMissing

from .checks import signature_refusals

SIGNATURE_INPUT = "signature-input"


def has_http_signature(headers) -> bool:
    return any(name.lower() == SIGNATURE_INPUT for name, _value in headers)


def check_http_signature(sender, method, url, headers, body, *, required=False):
    """The verified ``HttpSignatureResult`` of a request, or None when absent and allowed.

    ``sender``: the SenderInfo of the authenticated peer (its key lookup);
    ``headers``: the request's ``(name, value)`` pairs, repeated fields kept;
    ``body``: the exact bytes received. Raises ``DCIError``.
    """
    if not has_http_signature(headers):
        if required:
            raise DCIError(
                ErrorCode.SIGNATURE_MISSING,
                "this sender's requests must carry an RFC 9421 HTTP signature "
                "(Signature-Input, Signature and a covered Content-Digest)",
            )
        return None
    with signature_refusals("HTTP signature"):
        try:
            return verify_request(method, url, headers, body, sender.public_key)
        except SignatureMissing as exc:  # Signature-Input without (the matching) Signature
            raise DCIError(ErrorCode.SIGNATURE_INVALID, f"HTTP signature rejected: {exc}") from None
