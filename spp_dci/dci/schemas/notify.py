"""Event notification: /registry/notify, and IBR /registry/sync/enrollment/updates."""

from pydantic import Field, StrictStr

from ..codes import RequestStatus
from .common import (
    DCI_VERSION,
    CorrelationId,
    DateTime,
    DCIModel,
    JsonLdContainer,
    JsonObject,
    Locale,
    NonEmptyStr,
    ReferenceId,
    StatusReasonMessage,
    TransactionId,
)


class NotifyEventData(JsonLdContainer):
    """``notify_event[].data``: one JSON-LD record (``reg_records`` is an object here).

    ``reg_event_type`` is enumerated differently by each bundle (see
    ``codes.RegEventType``) and free in crvs, so it stays a string.
    """

    version: StrictStr = DCI_VERSION
    reg_type: StrictStr | None = None
    reg_event_type: StrictStr | None = None
    reg_record_type: NonEmptyStr
    reg_records: JsonObject


class NotifyEvent(DCIModel):
    reference_id: ReferenceId
    timestamp: DateTime
    data: NotifyEventData
    locale: Locale | None = None


class NotifyEventRequest(DCIModel):
    """``NotifyEventRequest``: message of action ``notify``."""

    transaction_id: TransactionId
    notify_event: list[NotifyEvent] = Field(min_length=1)


class EnrollmentUpdates(JsonLdContainer):
    beneficiaries: list[JsonObject]


class EnrollmentUpdatesRequest(DCIModel):
    """IBR ``EnrollmentUpdatesRequest`` (/registry/sync/enrollment/updates, action ``notify``)."""

    transaction_id: TransactionId
    enrolled_updates: EnrollmentUpdates


class EnrollmentUpdatesResponseItem(DCIModel):
    reference_id: ReferenceId
    timestamp: DateTime
    status: RequestStatus
    status_reason_message: StatusReasonMessage | None = None


class EnrollmentUpdatesResponse(DCIModel):
    """IBR ``EnrollmentUpdatesResponse``."""

    transaction_id: TransactionId
    correlation_id: CorrelationId
    enrolled_response: list[EnrollmentUpdatesResponseItem]
