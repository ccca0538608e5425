"""The one DCI envelope builder and verifier.

Every outgoing DCI body (requests, ACKs, callbacks) is
``{"signature": ..., "header": ..., "message": ...}``; build it here so the
bytes that are signed are exactly the dicts that get serialised.
"""

from .canonical import to_json_data
from .keys import SigningKey
from .signature import (
    DEFAULT_CLOCK_SKEW,
    DEFAULT_TTL,
    KeyResolver,
    MalformedSignature,
    SenderMismatch,
    SignatureMissing,
    VerifiedSignature,
    create_signature,
    verify_signature,
)

__all__ = ["build_envelope", "verify_envelope"]


def build_envelope(
    header,
    message,
    signer: SigningKey | None,
    sender_id: str,
    *,
    ttl: int = DEFAULT_TTL,
    now=None,
) -> dict:
    """Return a JSON-ready ``{"signature", "header", "message"}`` dict.

    ``message=None`` builds a header-only envelope (e.g. a callback with
    ``header.status: rjct``), signed over ``{"header": ...}``.

    ``header``/``message`` may be dicts or pydantic models (dumped with
    ``mode="json", exclude_none=True, by_alias=True``). With ``signer=None``
    the envelope has no ``signature`` key (the spec makes it optional; use
    that only where the peer agreed to unsigned traffic).
    """
    header = to_json_data(header)
    message = None if message is None else to_json_data(message)
    if not isinstance(header, dict) or not isinstance(message, dict | None):
        raise TypeError("header and message must be JSON objects (dicts or pydantic models)")
    header_sender = header.get("sender_id")
    if header_sender is not None and header_sender != sender_id:
        raise ValueError(f"header.sender_id {header_sender!r} differs from sender_id {sender_id!r}")
    envelope = {}
    if signer is not None:
        envelope["signature"] = create_signature(
            header, message, signer, sender_id, ttl=ttl, now=now
        )
    envelope["header"] = header
    if message is not None:  # header-only envelopes (status rjct) carry no message
        envelope["message"] = message
    return envelope


def verify_envelope(
    envelope: dict,
    resolver: KeyResolver,
    *,
    require_signature: bool = True,
    expected_sender_id: str | None = None,
    now=None,
    clock_skew: int = DEFAULT_CLOCK_SKEW,
    max_validity: int | None = None,
    callback_sender_id: str | None = None,
) -> VerifiedSignature | None:
    """Verify ``envelope["signature"]`` over its header and message.

    The signer named in ``kidId`` must equal ``header.sender_id`` (and
    ``expected_sender_id`` when given, e.g. the authenticated OAuth client).
    ``callback_sender_id``: the signer of a callback whose header has no
    ``sender_id`` (optional in ``MsgCallbackHeader``), known from its token.
    Returns ``None`` only for an unsigned envelope with ``require_signature=False``.

    :raises SignatureError: a subclass per failure (``SignatureMissing`` when
        the signature is required and absent).
    """
    if not isinstance(envelope, dict):
        raise MalformedSignature("envelope must be a JSON object")
    header = envelope.get("header")
    message = envelope.get("message")
    if not isinstance(header, dict):
        raise MalformedSignature("envelope needs a header object")
    if message is not None and not isinstance(message, dict):
        raise MalformedSignature("the envelope's message must be a JSON object")
    signature = envelope.get("signature")
    if signature in (None, ""):
        if require_signature:
            raise SignatureMissing("the envelope is not signed")
        return None
    header_sender = header.get("sender_id")
    if header_sender is None and callback_sender_id is not None:
        # MsgCallbackHeader makes sender_id optional: the peer known otherwise signs
        header_sender = callback_sender_id
    if expected_sender_id is not None and header_sender != expected_sender_id:
        raise SenderMismatch("header.sender_id is not the expected sender")
    if not isinstance(header_sender, str) or not header_sender:
        raise MalformedSignature("header.sender_id is missing")
    return verify_signature(
        signature,
        header,
        message,
        resolver,
        expected_sender_id=header_sender,
        now=now,
        clock_skew=clock_skew,
        max_validity=max_validity,
    )
