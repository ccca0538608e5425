"""Subscription messages: /registry/subscribe, on-subscribe, unsubscribe, on-unsubscribe."""

from pydantic import Field, StrictStr, model_validator

from ..codes import (
    QueryType,
    RequestStatus,
    SubscribeStatusReasonCode,
    SubscriptionStatus,
    UnSubscribeStatusReasonCode,
)
from .common import (
    DCI_VERSION,
    CorrelationId,
    DateTime,
    DCIModel,
    JsonObject,
    Locale,
    NonEmptyStr,
    Pagination,
    ReferenceId,
    StatusReasonMessage,
    SubscriptionCode,
    TransactionId,
)
from .search import Query, check_query_shape, check_unique_reference_ids


class EventFrequency(DCIModel):
    """EventFrequency.yaml: ``frequency`` is a cron expression."""

    start_time: DateTime
    end_time: DateTime
    frequency: NonEmptyStr


class SubscribeCriteria(DCIModel):
    version: StrictStr = DCI_VERSION
    reg_type: StrictStr | None = None
    # Free string; dr alone restricts it to REGISTER.
    reg_event_type: NonEmptyStr
    frequency: EventFrequency | None = None
    filter_type: QueryType | None = None
    filter: Query
    notify_record_type: NonEmptyStr
    authorize: JsonObject | None = None

    @model_validator(mode="after")
    def _check_filter(self):
        if self.filter_type is not None:
            self.filter = check_query_shape(self.filter_type, self.filter)
        return self


class SubscribeRequestItem(DCIModel):
    reference_id: ReferenceId
    timestamp: DateTime
    subscribe_criteria: SubscribeCriteria
    locale: Locale | None = None


class SubscribeRequest(DCIModel):
    """``SubscribeRequest``: message of action ``subscribe``."""

    transaction_id: TransactionId
    subscribe_request: list[SubscribeRequestItem] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_reference_ids(self):
        check_unique_reference_ids(self.subscribe_request)
        return self


class SubscriptionInfo(DCIModel):
    """``SubscriptionInfo``; required: code, status, timestamp (as fixed by OpenSPP)."""

    version: StrictStr = DCI_VERSION
    code: SubscriptionCode
    status: SubscriptionStatus
    timestamp: DateTime
    reg_type: StrictStr | None = None
    reg_event_type: StrictStr | None = None
    frequency: EventFrequency | None = None
    filter_type: QueryType | None = None
    filter: Query | None = None
    notify_record_type: StrictStr | None = None
    locale: Locale | None = None


class SubscribeResponseItem(DCIModel):
    reference_id: ReferenceId
    timestamp: DateTime
    status: RequestStatus
    status_reason_code: SubscribeStatusReasonCode | None = None
    status_reason_message: StatusReasonMessage | None = None
    subscriptions: list[SubscriptionInfo] | None = None
    pagination: Pagination | None = None
    locale: Locale | None = None


class SubscribeResponse(DCIModel):
    """``SubscribeResponse``: message of action ``on-subscribe``."""

    transaction_id: TransactionId
    correlation_id: CorrelationId
    subscribe_response: list[SubscribeResponseItem]


class UnSubscribeRequest(DCIModel):
    """``UnSubscribeRequest``: message of action ``unsubscribe``."""

    transaction_id: TransactionId
    timestamp: DateTime
    subscription_codes: list[SubscriptionCode] = Field(min_length=1)


class SubscriptionStatusItem(DCIModel):
    code: SubscriptionCode
    status: SubscriptionStatus


class UnSubscribeResponse(DCIModel):
    """``UnSubscribeResponse``: message of action ``on-unsubscribe``."""

    transaction_id: TransactionId
    correlation_id: CorrelationId
    timestamp: DateTime
    status: RequestStatus
    status_reason_code: UnSubscribeStatusReasonCode | None = None
    status_reason_message: StatusReasonMessage | None = None
    subscription_status: list[SubscriptionStatusItem] | None = None
