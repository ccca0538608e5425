"""The one DCI error mapper of the suite.

A ``DCIError`` carries a spec code (``err.*`` from ``Error.code`` or a ``rjct.*``
status reason code) and the HTTP status to answer with. It renders as:

- an ``HttpErrorResponse`` body, ``{"errors": [{"code", "message"}]}``, whose
  ``code`` is a free string, so any spec code fits;
- an ACK ``Response`` with ``ack_status: ERR``, whose ``error.code`` must be one of
  the ``err.*`` codes: a ``rjct.*`` code is reported as ``err.request.bad`` (or
  ``err.version.not_supported`` for ``rjct.version.invalid``) with the ``rjct.*``
  code at the start of ``error.message``.

Every 4xx/5xx answer also carries :func:`problem_members` beside its DCI body: the
``errors`` list of ``HttpErrorResponse`` (the exact code, ``rjct.*`` included) and
the RFC 9457 members ``type``, ``title``, ``status`` and ``detail``, for gateways,
HTTP libraries and test tools. No DCI schema sets ``additionalProperties: false``
and the body signature covers ``header`` + ``message`` only, so they change neither
the body's validity nor its signature.

Messages are short and never contain a traceback or the rejected input.
"""

from http import HTTPStatus

from pydantic import ValidationError

from .codes import (
    CODE_ENUMS,
    AckStatus,
    ErrorCode,
    MsgHeaderStatusReasonCode,
    SearchStatusReasonCode,
    SubscribeStatusReasonCode,
    UnSubscribeStatusReasonCode,
    code_from_value,
)

MAX_MESSAGE_LENGTH = 999  # Error.message maxLength

# HTTP status per code; every other code answers 400.
HTTP_STATUS = {
    ErrorCode.REQUEST_UNAUTHORIZED: 401,
    ErrorCode.SIGNATURE_MISSING: 401,
    ErrorCode.SIGNATURE_INVALID: 401,
    ErrorCode.REQUEST_FORBIDDEN: 403,
    ErrorCode.REQUEST_NOT_FOUND: 404,
    ErrorCode.REQUEST_TIMEOUT: 408,
    MsgHeaderStatusReasonCode.MESSAGE_ID_DUPLICATE: 409,
    MsgHeaderStatusReasonCode.TOTAL_COUNT_LIMIT_EXCEEDED: 413,
    ErrorCode.REQUEST_TOO_MANY_REQUESTS: 429,
    ErrorCode.SERVICE_UNAVAILABLE: 503,
}

# rjct.* codes that have a closer err.* code than err.request.bad in an ACK.
ACK_ERROR_CODE = {
    MsgHeaderStatusReasonCode.VERSION_INVALID: ErrorCode.VERSION_NOT_SUPPORTED,
}


def _short(text, limit=MAX_MESSAGE_LENGTH):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


class DCIError(Exception):
    """A DCI protocol error: spec ``code``, short ``message``, ``http_status``."""

    def __init__(self, code, message, http_status=None, retry_after=None):
        if not isinstance(code, CODE_ENUMS):
            code = code_from_value(code)
        self.code = code
        self.message = _short(message)
        self.http_status = http_status or HTTP_STATUS.get(code, 400)
        self.retry_after = retry_after
        super().__init__(f"{code}: {self.message}")

    @property
    def error_code(self) -> ErrorCode:
        """The ``err.*`` code to put in an ACK ``error`` object."""
        if isinstance(self.code, ErrorCode):
            return self.code
        return ACK_ERROR_CODE.get(self.code, ErrorCode.REQUEST_BAD)

    @property
    def error_message(self) -> str:
        """ACK ``error.message``: keeps the ``rjct.*`` code when ``error_code`` lost it."""
        if isinstance(self.code, ErrorCode):
            return self.message
        return _short(f"{self.code}: {self.message}")

    @property
    def http_headers(self) -> dict:
        if self.retry_after is None:
            return {}
        return {"Retry-After": str(int(self.retry_after))}

    def problem_members(self, status=None) -> dict:
        """The members this error adds to any 4xx/5xx body (see :func:`problem_members`)."""
        return problem_members(self.code, self.message, status or self.http_status)

    def http_body(self) -> dict:
        """``HttpErrorResponse`` with the RFC 9457 members."""
        return self.problem_members()


def http_error_body(code, message) -> dict:
    """``HttpErrorResponse`` body: ``{"errors": [{"code": ..., "message": ...}]}``."""
    return {"errors": [{"code": str(code), "message": _short(message)}]}


# RFC 9457 4.2.1: with "about:blank" the title is the status phrase and the problem
# is the HTTP status itself; the DCI code says the rest (``errors``, ``detail``).
PROBLEM_TYPE = "about:blank"


def problem_members(code, message, status) -> dict:
    """``errors`` and the RFC 9457 members that every 4xx/5xx answer carries."""
    status = int(status)
    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    return {
        **http_error_body(code, message),
        "type": PROBLEM_TYPE,
        "title": title,
        "status": status,
        "detail": _short(f"{code}: {message}"),
    }


def ack_body(ack_status, correlation_id, timestamp=None, error=None) -> dict:
    """A spec-valid ACK ``Response`` body.

    ``error`` is a ``DCIError``, an ``Error`` model or a ``{"code", "message"}``
    dict; it is required when ``ack_status`` is ERR.
    """
    # Imported here: schemas imports this module for its parse helpers.
    from .schemas.common import AckMessage, Error, Response, utc_now

    ack_status = AckStatus(ack_status)
    if ack_status == AckStatus.ERR and error is None:
        raise ValueError("An ERR acknowledgement needs an error")
    if isinstance(error, DCIError):
        error = Error(code=error.error_code, message=error.error_message)
    elif isinstance(error, dict):
        error = Error.model_validate(error)
    message = AckMessage(
        ack_status=ack_status,
        timestamp=timestamp or utc_now(),
        error=error,
        correlation_id=correlation_id,
    )
    return Response(message=message).to_json()


def error_ack_body(err: DCIError, correlation_id, timestamp=None) -> dict:
    """ACK ``Response`` with ``ack_status: ERR`` for ``err``."""
    return ack_body(AckStatus.ERR, correlation_id, timestamp=timestamp, error=err)


# --- pydantic ValidationError -> DCIError ----------------------------------------

# Union tags that pydantic puts in error locations (schemas.common/search/txn).
_TAGS = {
    "plain",
    "encrypted",
    "idtype-value",
    "expression",
    "predicate",
    "search",
    "subscribe",
    "unsubscribe",
    "receipt",
}
_TAGGED_FIELDS = {"message", "query", "filter", "txn_status"}

_HEADER_CODES = {
    "version": MsgHeaderStatusReasonCode.VERSION_INVALID,
    "message_ts": MsgHeaderStatusReasonCode.MESSAGE_TS_INVALID,
    "total_count": MsgHeaderStatusReasonCode.TOTAL_COUNT_INVALID,
    "sender_id": ErrorCode.SENDER_ID_INVALID,
    "sender_uri": ErrorCode.SENDER_URI_INVALID,
    "receiver_id": ErrorCode.RECEIVER_ID_INVALID,
    "is_msg_encrypted": ErrorCode.ENCRYPTION_INVALID,
}

# Custom error types raised by the schemas, mapped whatever their location.
_TYPE_CODES = {
    "reference_id_duplicate": SearchStatusReasonCode.REFERENCE_ID_DUPLICATE,
    "total_count_mismatch": MsgHeaderStatusReasonCode.TOTAL_COUNT_INVALID,
    "encryption_mismatch": ErrorCode.ENCRYPTION_INVALID,
}

# The first of these names found in the location decides (most specific first).
_MESSAGE_CODES = (
    ("pagination", SearchStatusReasonCode.PAGINATION_INVALID),
    ("sort", SearchStatusReasonCode.SORT_INVALID),
    ("search_criteria", SearchStatusReasonCode.SEARCH_CRITERIA_INVALID),
    ("reg_event_type", SubscribeStatusReasonCode.NOTIFY_TYPES_INVALID),
    ("notify_record_type", SubscribeStatusReasonCode.NOTIFY_TYPES_INVALID),
    ("subscribe_criteria", SubscribeStatusReasonCode.NOTIFY_DETAILS_INVALID),
    ("subscription_codes", UnSubscribeStatusReasonCode.SUBSCRIPTION_CODE_INVALID),
    ("reference_id", SearchStatusReasonCode.REFERENCE_ID_INVALID),
    ("timestamp", SearchStatusReasonCode.TIMESTAMP_INVALID),
)


def clean_loc(loc) -> tuple:
    """An error location without the union tags pydantic inserts."""
    cleaned = []
    for part in loc:
        if part in _TAGS and cleaned and cleaned[-1] in _TAGGED_FIELDS:
            continue
        cleaned.append(part)
    return tuple(cleaned)


def _code_for(loc, error_type, raw_loc):
    if error_type in _TYPE_CODES:
        return _TYPE_CODES[error_type]
    if not loc:
        return ErrorCode.REQUEST_BAD
    top = loc[0]
    if top == "signature":
        return ErrorCode.SIGNATURE_INVALID
    if top == "header":
        field = loc[1] if len(loc) > 1 else None
        if field == "action":
            if error_type == "enum":
                return MsgHeaderStatusReasonCode.ACTION_NOT_SUPPORTED
            return MsgHeaderStatusReasonCode.ACTION_INVALID
        return _HEADER_CODES.get(field, ErrorCode.REQUEST_BAD)
    if top == "message":
        if len(raw_loc) > 1 and raw_loc[1] == "encrypted":
            return ErrorCode.ENCRYPTION_INVALID
        names = [part for part in loc if isinstance(part, str)]
        for name, code in _MESSAGE_CODES:
            if name in names:
                return code
    return ErrorCode.REQUEST_BAD


def from_validation_error(exc: ValidationError, http_status=None) -> DCIError:
    """The ``DCIError`` for the first (outermost, header-first) validation error."""
    errors = exc.errors(include_url=False, include_input=False)
    if not errors:
        return DCIError(ErrorCode.REQUEST_BAD, "Invalid request", http_status)
    first = errors[0]
    loc = clean_loc(first["loc"])
    code = _code_for(loc, first["type"], first["loc"])
    where = ".".join(str(part) for part in loc) or "body"
    text = f"{where}: {first['msg']}"
    if len(errors) > 1:
        text += f" (and {len(errors) - 1} more error(s))"
    return DCIError(code, text, http_status)
