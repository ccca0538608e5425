"""Transaction status: /registry/txn/status, txn/on-status and /registry/sync/txn/status.

``txn_status`` is ``oneOf`` a search response or a receipt (social, ibr) or a
search/subscribe/unsubscribe response (crvs, fr); the model accepts all four and
checks that the one received matches ``txn_type``.
"""

from typing import Annotated, Any

from pydantic import Discriminator, Field, Tag, model_validator
from pydantic_core import PydanticCustomError

from ..codes import TxnAttributeType, TxnType
from .common import (
    CorrelationId,
    DCIModel,
    JsonLdContainer,
    JsonObject,
    Locale,
    ReferenceId,
    TransactionId,
)
from .search import SearchResponse
from .subscribe import SubscribeResponse, UnSubscribeResponse

# Subscription codes have a maxLength, reference ids do not.
SUBSCRIPTION_CODE_MAX = 99

# attribute_value is a transaction/correlation id (string) or a list of ids.
_LIST_ATTRIBUTES = {
    TxnAttributeType.REFERENCE_ID_LIST,
    TxnAttributeType.SUBSCRIPTION_CODE_LIST,
}


class TxnStatusQuery(DCIModel):
    """``txnstatus_request``."""

    reference_id: ReferenceId
    txn_type: TxnType
    attribute_type: TxnAttributeType
    attribute_value: TransactionId | Annotated[list[ReferenceId], Field(min_length=1)]
    locale: Locale | None = None

    @model_validator(mode="after")
    def _value_matches_type(self):
        wants_list = self.attribute_type in _LIST_ATTRIBUTES
        if wants_list != isinstance(self.attribute_value, list):
            raise PydanticCustomError(
                "attribute_value_type",
                "attribute_value should be {expected} for attribute_type {attribute_type}",
                {
                    "expected": "a list" if wants_list else "a string",
                    "attribute_type": self.attribute_type.value,
                },
            )
        if self.attribute_type == TxnAttributeType.SUBSCRIPTION_CODE_LIST and any(
            len(code) > SUBSCRIPTION_CODE_MAX for code in self.attribute_value
        ):
            raise PydanticCustomError(
                "string_too_long",
                "Subscription codes should have at most {max_length} characters",
                {"max_length": SUBSCRIPTION_CODE_MAX},
            )
        return self


class TxnStatusRequest(DCIModel):
    """``TxnStatusRequest``: message of action ``txn-status``."""

    transaction_id: TransactionId
    txnstatus_request: TxnStatusQuery


class ReceiptInformation(JsonLdContainer):
    beneficiaries: list[JsonObject] | None = None


class TxnReceiptStatus(DCIModel):
    """``txn_status`` of a ``receipt`` transaction (social, ibr)."""

    transaction_id: TransactionId
    receipt_information: ReceiptInformation


def _txn_status_kind(value: Any) -> str:
    if isinstance(value, DCIModel):
        return _KIND_BY_MODEL.get(type(value), TxnType.UNSUBSCRIBE.value)
    if isinstance(value, dict):
        for key, kind in _KIND_BY_KEY.items():
            if key in value:
                return kind
    return TxnType.UNSUBSCRIBE.value


_KIND_BY_KEY = {
    "search_response": TxnType.SEARCH.value,
    "subscribe_response": TxnType.SUBSCRIBE.value,
    "receipt_information": TxnType.RECEIPT.value,
}
_KIND_BY_MODEL = {
    SearchResponse: TxnType.SEARCH.value,
    SubscribeResponse: TxnType.SUBSCRIBE.value,
    UnSubscribeResponse: TxnType.UNSUBSCRIBE.value,
    TxnReceiptStatus: TxnType.RECEIPT.value,
}

TxnStatus = Annotated[
    Annotated[SearchResponse, Tag(TxnType.SEARCH.value)]
    | Annotated[SubscribeResponse, Tag(TxnType.SUBSCRIBE.value)]
    | Annotated[UnSubscribeResponse, Tag(TxnType.UNSUBSCRIBE.value)]
    | Annotated[TxnReceiptStatus, Tag(TxnType.RECEIPT.value)],
    Discriminator(_txn_status_kind),
]


class TxnStatusResult(DCIModel):
    """``txnstatus_response``."""

    txn_type: TxnType
    txn_status: TxnStatus

    @model_validator(mode="after")
    def _status_matches_type(self):
        if _KIND_BY_MODEL[type(self.txn_status)] != self.txn_type.value:
            raise PydanticCustomError(
                "txn_status_type",
                "txn_status does not hold a {txn_type} result",
                {"txn_type": self.txn_type.value},
            )
        return self


class TxnStatusResponse(DCIModel):
    """``TxnStatusResponse``: message of action ``txn-on-status`` (async and sync)."""

    transaction_id: TransactionId
    correlation_id: CorrelationId
    txnstatus_response: TxnStatusResult
