"""Shared DCI 1.0.0 building blocks: field types, headers, envelopes, ACK, errors.

additionalProperties: no protocol schema of the registry bundles sets
``additionalProperties: false``, so a peer may add keys. Protocol models therefore
use ``extra="ignore"``: unknown keys are accepted (as the spec requires) but not
kept, so what we re-emit is only what the spec defines. JSON-LD containers
(``reg_records`` items, ``consent``, ``authorize``, ``meta``, search ``data``) keep
everything (``extra="allow"`` or plain dicts).

Stricter than the JSON schema, on purpose (a strict peer rejects these):
- identifiers (``transaction_id``, ``correlation_id``, ``message_id``,
  ``reference_id``, subscription codes, ``sender_id``) must not be empty;
- timestamps must be RFC 3339 strings with a time zone (no naive datetimes, no
  epoch numbers);
- integers must be JSON integers (no ``"1"``), booleans JSON booleans;
- explicit ``null`` is rejected in received bodies (no field of the spec is
  ``nullable``; see ``DCIModel.from_json``);
- ``header.version`` must be ``1.0.0``.
"""

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PlainSerializer,
    StrictBool,
    StrictInt,
    StrictStr,
    Tag,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from ..codes import (
    AckStatus,
    Action,
    ErrorCode,
    MsgHeaderStatusReasonCode,
    RequestStatus,
)

DCI_VERSION = "1.0.0"
INT32_MAX = 2**31 - 1

# RFC 3339 date-time, as JSON schema "format: date-time" reads it: "T" separator,
# mandatory offset ("Z" or +hh:mm).
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def format_timestamp(value: datetime) -> str:
    """ISO 8601 with milliseconds and offset, ``Z`` for UTC (``2024-01-01T10:00:00.000Z``)."""
    text = value.isoformat(timespec="milliseconds")
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def utc_now() -> datetime:
    return datetime.now(UTC)


def _check_rfc3339(value: Any) -> Any:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _RFC3339.match(value):
        raise PydanticCustomError(
            "datetime_rfc3339",
            "Input should be an ISO 8601 / RFC 3339 date-time with time zone, "
            "e.g. 2022-12-04T17:20:07-04:00",
        )
    return value


def _check_uri(value: str) -> str:
    parts = urlsplit(value)
    if not parts.scheme or not parts.netloc:
        raise PydanticCustomError("uri", "Input should be an absolute URI")
    return value


#: ``format: date-time`` with a mandatory time zone; serialised as
#: ``2024-01-01T10:00:00.000Z``.
DateTime = Annotated[
    AwareDatetime,
    BeforeValidator(_check_rfc3339),
    PlainSerializer(format_timestamp, return_type=str, when_used="json"),
]
NonEmptyStr = Annotated[StrictStr, Field(min_length=1)]
#: TransactionId.yaml / CorrelationId.yaml / SubscriptionCode: maxLength 99.
TransactionId = Annotated[StrictStr, Field(min_length=1, max_length=99)]
CorrelationId = TransactionId
SubscriptionCode = TransactionId
#: ReferenceId.yaml has no maxLength.
ReferenceId = NonEmptyStr
MessageId = NonEmptyStr
#: LanguageCode.yaml: ISO 639-3, ``^[a-z]{3,3}$``.
Locale = Annotated[StrictStr, Field(pattern=r"^[a-z]{3}$")]
StatusReasonMessage = Annotated[StrictStr, Field(max_length=999)]
Uri = Annotated[StrictStr, AfterValidator(_check_uri)]
Count = Annotated[StrictInt, Field(ge=0, le=INT32_MAX)]
PositiveInt32 = Annotated[StrictInt, Field(ge=1, le=INT32_MAX)]
JsonObject = dict[str, Any]


def _check_number(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PydanticCustomError("number_type", "Input should be a number")
    return value


def _check_attribute_value(value: Any) -> Any:
    if not isinstance(value, str | bool | int | float | dict):
        raise PydanticCustomError(
            "attribute_value_type",
            "Input should be a string, number, boolean or object",
        )
    return value


#: JSON ``number`` (integers stay integers).
Number = Annotated[int | float, BeforeValidator(_check_number)]
#: AttributeValue.yaml: string | integer | number | boolean | object.
AttributeValue = Annotated[
    str | bool | int | float | JsonObject, BeforeValidator(_check_attribute_value)
]


# Validation context of received bodies (see DCIModel.from_json).
WIRE_CONTEXT = {"dci_wire": True}
#: model class -> the names a wire body may give its fields (DCIModel._no_null_on_the_wire)
_WIRE_NAMES = {}


class DCIModel(BaseModel):
    """Base of every protocol object (see the module docstring for ``extra``)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    @classmethod
    def from_json(cls, data):
        """Parse a received JSON body (a dict), rejecting explicit nulls.

        No field of the spec is ``nullable``, so ``"pagination": null`` is invalid
        on the wire; Python callers may still pass ``None`` for "absent".
        """
        return cls.model_validate(data, context=WIRE_CONTEXT)

    def to_json(self) -> dict:
        """Wire form: JSON-ready dict, aliases, no ``None`` values."""
        return self.model_dump(mode="json", exclude_none=True, by_alias=True)

    @model_validator(mode="before")
    @classmethod
    def _no_null_on_the_wire(cls, data: Any, info: ValidationInfo) -> Any:
        if not (info.context and info.context.get("dci_wire")):
            return data
        if not isinstance(data, dict):
            return data
        names = _WIRE_NAMES.get(cls)
        if names is None:  # once per class: its fields' names and aliases
            fields = cls.__pydantic_fields__
            aliases = {field.alias for field in fields.values() if field.alias}
            names = _WIRE_NAMES[cls] = frozenset(fields) | aliases
        nulls = [key for key, value in data.items() if value is None and key in names]
        if nulls:
            raise ValidationError.from_exception_data(
                cls.__name__,
                [
                    InitErrorDetails(
                        type=PydanticCustomError("null_value", "Input should not be null"),
                        loc=(key,),
                        input=None,
                    )
                    for key in nulls
                ],
            )
        return data


class JsonLdContainer(DCIModel):
    """A container of JSON-LD data: keeps keys the spec does not name."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


# --- headers -------------------------------------------------------------------


# A 1.0.0 peer cannot process another protocol version (rjct.version.invalid).
HeaderVersion = Literal["1.0.0"]


class MsgHeader(DCIModel):
    """``MsgHeader_V1.0.0``: header of requests (search, subscribe, txn-status...)."""

    version: HeaderVersion = DCI_VERSION
    message_id: MessageId
    message_ts: DateTime
    action: Action
    sender_id: NonEmptyStr
    sender_uri: Uri | None = None
    receiver_id: StrictStr | None = None
    total_count: Count
    is_msg_encrypted: StrictBool = False
    meta: JsonObject | None = None


class MsgCallbackHeader(DCIModel):
    """``MsgCallbackHeader_V1.0.0``: header of on-search, notify, txn-on-status and sync replies."""

    version: HeaderVersion = DCI_VERSION
    message_id: MessageId
    message_ts: DateTime
    action: Action
    status: RequestStatus
    status_reason_code: MsgHeaderStatusReasonCode | None = None
    status_reason_message: StatusReasonMessage | None = None
    total_count: Count | None = None
    completed_count: Count | None = None
    sender_id: StrictStr | None = None
    receiver_id: StrictStr | None = None
    is_msg_encrypted: StrictBool = False
    meta: JsonObject | None = None


class SubscriptionCallbackHeader(MsgCallbackHeader):
    """Header of /registry/on-subscribe and /registry/on-unsubscribe.

    social, crvs, ibr and dr declare ``MsgHeader_V1.0.0`` there (``sender_id`` and
    ``total_count`` required), fr declares ``MsgCallbackHeader_V1.0.0`` (``status``
    required). A received header must satisfy one of the two; a header we send
    sets all three fields so that it satisfies both.
    """

    status: RequestStatus | None = None
    sender_uri: Uri | None = None

    @model_validator(mode="after")
    def _one_of_the_two_headers(self):
        as_msg_header = bool(self.sender_id) and self.total_count is not None
        if not as_msg_header and self.status is None:
            raise PydanticCustomError(
                "subscription_callback_header",
                "Header needs sender_id and total_count (MsgHeader_V1.0.0) "
                "or status (MsgCallbackHeader_V1.0.0)",
            )
        return self


# --- message bodies shared by all endpoints -----------------------------------


class EncryptedMessageHeader(DCIModel):
    alg: StrictStr
    enc: StrictStr
    kid: StrictStr


Base64Url = Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9_-]*$")]


class EncryptedMessage(DCIModel):
    """``EncryptedMessage``: a JWE in flattened form, fields Base64Url-encoded."""

    header: EncryptedMessageHeader
    ciphertext: Base64Url
    encrypted_key: Base64Url
    tag: Base64Url
    iv: Base64Url


class FileInfo(DCIModel):
    """``FileInfo``: the multipart/form-data variant of the async endpoints."""

    action: Action
    file_name: bytes | StrictStr = Field(alias="fileName")
    file_format: StrictStr = Field("json", alias="fileFormat")


class Error(DCIModel):
    """``Error``: the error object of an ACK."""

    code: ErrorCode
    message: Annotated[StrictStr, Field(max_length=999)] | None = None


class AckMessage(DCIModel):
    ack_status: AckStatus
    timestamp: DateTime
    error: Error | None = None
    correlation_id: CorrelationId


class Response(DCIModel):
    """``components/responses/Response``: ``{"message": {ack_status, ...}}``."""

    message: AckMessage


class HttpError(DCIModel):
    code: StrictStr
    message: StrictStr | None = None


class HttpErrorResponse(DCIModel):
    """``components/responses/HttpErrorResponse``: ``{"errors": [{code, message}]}``."""

    errors: list[HttpError]


class Pagination(DCIModel):
    """Pagination.yaml (responses): all three fields required, counts start at 1."""

    page_size: PositiveInt32
    page_number: PositiveInt32
    total_count: Count


# --- envelopes -------------------------------------------------------------------

MessageT = TypeVar("MessageT", bound=BaseModel)
HeaderT = TypeVar("HeaderT", bound=BaseModel)

# Tags of the plain/encrypted message union; they show up in validation error
# locations (errors.py skips them).
PLAIN = "plain"
ENCRYPTED = "encrypted"


def _message_kind(value: Any) -> str:
    if isinstance(value, EncryptedMessage):
        return ENCRYPTED
    if isinstance(value, dict) and "ciphertext" in value:
        return ENCRYPTED
    return PLAIN


#: The ``message`` of every endpoint: ``oneOf: [<Message>, EncryptedMessage]``.
MessageOrEncrypted = Annotated[
    Annotated[MessageT, Tag(PLAIN)] | Annotated[EncryptedMessage, Tag(ENCRYPTED)],
    Discriminator(_message_kind),
]

# A batch request must announce its size in header.total_count
# (rjct.total_count.invalid otherwise).
_BATCH_FIELDS = ("search_request", "subscribe_request")


class Envelope(DCIModel, Generic[HeaderT, MessageT]):
    """``{signature, header, message}``; ``signature`` is checked by signature.py."""

    signature: StrictStr | None = None
    header: HeaderT
    message: MessageOrEncrypted[MessageT] | None = None

    @model_validator(mode="after")
    def _check_message_against_header(self):
        encrypted = isinstance(self.message, EncryptedMessage)
        if self.message is not None and encrypted != self.header.is_msg_encrypted:
            raise PydanticCustomError(
                "encryption_mismatch",
                "header.is_msg_encrypted does not match the message",
            )
        return self


class RequestEnvelope(Envelope[MsgHeader, MessageT], Generic[MessageT]):
    """Envelope of search, subscribe, unsubscribe and txn-status (message required)."""

    message: MessageOrEncrypted[MessageT]

    @model_validator(mode="after")
    def _check_total_count(self):
        # the message model's own fields: a missing one would go through __getattr__
        fields = getattr(type(self.message), "__pydantic_fields__", ())
        for field in _BATCH_FIELDS:
            batch = getattr(self.message, field) if field in fields else None
            if batch is not None and self.header.total_count != len(batch):
                raise PydanticCustomError(
                    "total_count_mismatch",
                    "header.total_count ({total_count}) differs from the number "
                    "of requests in {field} ({count})",
                    {
                        "total_count": self.header.total_count,
                        "field": field,
                        "count": len(batch),
                    },
                )
        return self


class CallbackEnvelope(Envelope[MsgCallbackHeader, MessageT], Generic[MessageT]):
    """Envelope of on-search, notify, txn-on-status and of the sync replies.

    Only ``header`` is required there: a rejected request may be answered with a
    header carrying ``status: rjct`` and no message.
    """


class SubscriptionCallbackEnvelope(
    Envelope[SubscriptionCallbackHeader, MessageT], Generic[MessageT]
):
    """Envelope of on-subscribe and on-unsubscribe (message required)."""

    message: MessageOrEncrypted[MessageT]
