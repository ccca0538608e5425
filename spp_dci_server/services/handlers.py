"""One small handler per DCI action, and :func:`process`, which signs the answer.

A handler takes the context, the :class:`Exchange` (who asked, our correlation
id, the transaction row when there is one) and the parsed message, and returns
``(message, total_count, completed_count)``. Batch items are validated one by
one: a bad item is answered ``rjct`` with its reason code, the others are
processed (partial failure).
"""

from dataclasses import dataclass

from pydantic import BaseModel, Field, ValidationError, create_model

from odoo.addons.spp_dci.dci.codes import (
    Action,
    MsgHeaderStatusReasonCode,
    RequestStatus,
    SearchStatusReasonCode,
    SubscribeStatusReasonCode,
    TxnAttributeType,
    TxnType,
    UnSubscribeStatusReasonCode,
)
from odoo.addons.spp_dci.dci.errors import DCIError, from_validation_error
from odoo.addons.spp_dci.dci.schemas.common import (
    WIRE_CONTEXT,
    DCIModel,
    JsonObject,
    MsgCallbackHeader,
    SubscriptionCallbackHeader,
    TransactionId,
    utc_now,
)
from odoo.addons.spp_dci.dci.schemas.search import SearchRequestItem, SearchResponse
from odoo.addons.spp_dci.dci.schemas.subscribe import (
    SubscribeRequestItem,
    SubscribeResponse,
    UnSubscribeResponse,
)
from odoo.addons.spp_dci.dci.schemas.txn import TxnStatusResponse

from .paths import REPLY_ACTIONS
from .replies import callback_header, now_ts, rejection_envelope, sign_envelope
from .search_limits import TimeLimit
from .txn_status import only_references, txn_status_of, unknown_txn_status

#: txn_type values whose txn_status each registry spec can represent. The social
#: and ibr ``txn_status`` is oneOf a search response or a receipt: a subscribe
#: result fits neither, so only search is answered there.
TXN_TYPES = {
    "social": {TxnType.SEARCH},
    "ibr": {TxnType.SEARCH},
    "crvs": {TxnType.SEARCH, TxnType.SUBSCRIBE, TxnType.UNSUBSCRIBE},
    "fr": {TxnType.SEARCH, TxnType.SUBSCRIBE, TxnType.UNSUBSCRIBE},
    "dr": set(),
}


@dataclass
class Exchange:
    """One request being answered: its sender (record), our correlation id, its row."""

    sender: object
    client_id: str  # the sender's, our receiver_id (without reading the record)
    correlation_id: str
    txn: object = None  # spp.dci.transaction, for the asynchronous actions


# --- lenient batch messages: the items are checked one by one ------------------------


class _LenientSearchRequest(DCIModel):
    transaction_id: TransactionId
    search_request: list[JsonObject] = Field(min_length=1)


class _LenientSubscribeRequest(DCIModel):
    transaction_id: TransactionId
    subscribe_request: list[JsonObject] = Field(min_length=1)


LENIENT_MESSAGES = {
    Action.SEARCH: _LenientSearchRequest,
    Action.SUBSCRIBE: _LenientSubscribeRequest,
}
_PROBES = {
    model: create_model(f"{model.__name__}Probe", __base__=BaseModel, message=(model, ...))
    for model in (SearchRequestItem, SubscribeRequestItem)
}


def validate_item(model, raw):
    """Validate one batch item; errors map to the item's reason code."""
    try:
        return _PROBES[model].model_validate({"message": raw}, context=WIRE_CONTEXT).message
    except ValidationError as exc:
        raise from_validation_error(exc) from exc


def _reason(err, allowed, fallback):
    """The item status_reason_code of ``err`` within the ``allowed`` enum."""
    try:
        return allowed(str(err.code))
    except ValueError:
        return fallback


def _reference(raw, index):
    reference = raw.get("reference_id")
    return reference if isinstance(reference, str) and reference else f"item-{index + 1}"


def _rejected_item(reference, code, message):
    return {
        "reference_id": reference,
        "timestamp": now_ts(),
        "status": RequestStatus.RJCT.value,
        "status_reason_code": code.value,
        "status_reason_message": message,
    }


# --- the handlers ------------------------------------------------------------------


def _answer_items(raw_items, model, codes, fallback, answer):
    """Answer each batch item on its own: ``answer(item)`` gives a success's own members;
    a DCIError (bad item, repeated reference_id, refused by the handler) a ``rjct`` item
    with its reason within ``codes`` (else ``fallback``)."""
    items = []
    seen = set()
    for index, raw in enumerate(raw_items):
        try:
            item = validate_item(model, raw)
            if item.reference_id in seen:
                raise DCIError(
                    codes.REFERENCE_ID_DUPLICATE, "reference_id is repeated in the batch"
                )
            seen.add(item.reference_id)
            members = answer(item)
        except DCIError as err:
            code = _reason(err, codes, fallback)
            items.append(_rejected_item(_reference(raw, index), code, err.message))
            continue
        entry = {
            "reference_id": item.reference_id,
            "timestamp": now_ts(),
            "status": RequestStatus.SUCC.value,
            **members,
        }
        if item.locale:
            entry["locale"] = item.locale
        items.append(entry)
    return items


def search(ctx, exchange, message, env=None):
    """``search``: each item against the registry implementation (``env``: read-only)."""
    impl = (ctx.env if env is None else env)[ctx.implementation_name()]

    config = ctx.config
    limit = TimeLimit(impl.env, config.search_timeout_ms)

    def answer(item):
        with limit:
            data, pagination = impl._dci_search(
                item.search_criteria, config.max_page_size, config.max_search_depth
            )
        return {"data": data, "pagination": pagination}

    items = _answer_items(
        message.search_request,
        SearchRequestItem,
        SearchStatusReasonCode,
        SearchStatusReasonCode.SEARCH_CRITERIA_INVALID,
        answer,
    )
    reply = SearchResponse(
        transaction_id=message.transaction_id,
        correlation_id=exchange.correlation_id,
        search_response=items,
    )
    return reply, len(items), len(items)


def subscribe(ctx, exchange, message, env=None):
    impl = ctx.env[ctx.implementation_name()]
    Subscription = ctx.env["spp.dci.subscription"]

    def answer(item):
        subscription = Subscription._dci_create_from_request(exchange.txn, item, impl)
        return {"subscriptions": [subscription._dci_info()]}

    items = _answer_items(
        message.subscribe_request,
        SubscribeRequestItem,
        SubscribeStatusReasonCode,
        SubscribeStatusReasonCode.NOTIFY_DETAILS_INVALID,
        answer,
    )
    reply = SubscribeResponse(
        transaction_id=message.transaction_id,
        correlation_id=exchange.correlation_id,
        subscribe_response=items,
    )
    return reply, len(items), len(items)


def unsubscribe(ctx, exchange, message, env=None):
    status = RequestStatus.SUCC
    code = text = None
    statuses = None
    try:
        subscriptions = ctx.env["spp.dci.subscription"]._dci_unsubscribe(
            exchange.sender, message.subscription_codes
        )
        statuses = [{"code": s.code, "status": "unsubscribe"} for s in subscriptions]
    except DCIError as err:
        status = RequestStatus.RJCT
        code = _reason(
            err, UnSubscribeStatusReasonCode, UnSubscribeStatusReasonCode.SUBSCRIPTION_CODE_INVALID
        )
        text = err.message
    reply = UnSubscribeResponse(
        transaction_id=message.transaction_id,
        correlation_id=exchange.correlation_id,
        timestamp=utc_now(),
        status=status,
        status_reason_code=code,
        status_reason_message=text,
        subscription_status=statuses,
    )
    return reply, len(message.subscription_codes), len(message.subscription_codes)


def txn_status(ctx, exchange, message, env=None):
    env = env or ctx.env
    query = message.txnstatus_request
    txn_type = query.txn_type
    if txn_type not in TXN_TYPES.get(ctx.config.registry_type, set()):
        raise DCIError(
            MsgHeaderStatusReasonCode.ACTION_NOT_SUPPORTED,
            f"txn_type {txn_type.value!r} has no txn_status form "
            f"in the {ctx.config.registry_type} spec",
        )
    found = env["spp.dci.transaction"]._dci_find_for_status(
        exchange.sender, txn_type, query.attribute_type, query.attribute_value
    )
    if found:
        status = txn_status_of(found)
        if query.attribute_type == TxnAttributeType.REFERENCE_ID_LIST:
            status = only_references(status, set(query.attribute_value))
    else:
        status = unknown_txn_status(txn_type, query)
    reply = TxnStatusResponse.model_validate(
        {
            "transaction_id": message.transaction_id,
            "correlation_id": exchange.correlation_id,
            "txnstatus_response": {"txn_type": txn_type.value, "txn_status": status},
        }
    )
    return reply, 1, 1


HANDLERS = {
    Action.SEARCH: search,
    Action.SUBSCRIBE: subscribe,
    Action.UNSUBSCRIBE: unsubscribe,
    Action.TXN_STATUS: txn_status,
}


def process(ctx, action, exchange, message, env=None):
    """Run the handler of ``action``; return the signed callback envelope.

    ``env`` is where the handler reads (the read-only cursor on the sync paths).
    """
    action = Action(action)
    reply_action = REPLY_ACTIONS[action]
    receiver = exchange.client_id
    try:
        reply, total, completed = HANDLERS[action](ctx, exchange, message, env=env)
    except DCIError as err:
        if action != Action.TXN_STATUS:
            raise
        return rejection_envelope(ctx, reply_action, err, receiver)
    header_class = (
        SubscriptionCallbackHeader
        if action in (Action.SUBSCRIBE, Action.UNSUBSCRIBE)
        else MsgCallbackHeader
    )
    header = callback_header(
        ctx,
        reply_action,
        RequestStatus.SUCC,
        receiver,
        header_class,
        total_count=total,
        completed_count=completed,
    )
    return sign_envelope(ctx, header, reply)
