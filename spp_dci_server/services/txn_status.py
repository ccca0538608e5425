"""``txn_status`` of our transactions, as a txn-status query answers them."""

from odoo.addons.spp_dci.dci.codes import (
    RequestStatus,
    SearchStatusReasonCode,
    TxnAttributeType,
    TxnType,
    UnSubscribeStatusReasonCode,
)

from .replies import internal_error, now_ts, refusal_text

#: Sync answers are not kept unless the endpoint stores payloads.
NOT_KEPT = "answered in the synchronous response; its records are not kept"


def txn_status_of(txn):
    """``txn_status`` of a transaction: its stored answer, or items with its state."""
    response = txn.sudo().response_payload or {}
    message = response.get("message") if isinstance(response, dict) else None
    if txn.state == "done" and isinstance(message, dict):
        return message
    if txn.state == "done":
        status, reason_text = RequestStatus.SUCC, NOT_KEPT
    elif txn.state == "received":
        status, reason_text = RequestStatus.PDNG, None
    elif txn.state == "failed":  # unexpected error: what it was is for administrators only
        err = internal_error()
        status, reason_text = RequestStatus.RJCT, refusal_text(err.code, err.message)
    else:
        status, reason_text = RequestStatus.RJCT, txn.status_reason_message or "rejected"
    items = []
    for reference in txn.reference_ids or ["unknown"]:
        item = {"reference_id": reference, "timestamp": now_ts(), "status": status.value}
        if reason_text:
            item["status_reason_message"] = reason_text[:999]
        items.append(item)
    base = {"transaction_id": txn.transaction_id or "unknown", "correlation_id": txn.correlation_id}
    if txn.action == "unsubscribe":
        return {**base, "timestamp": now_ts(), "status": status.value}
    key = "search_response" if txn.action == "search" else "subscribe_response"
    return {**base, key: items}


def only_references(status, references):
    status = dict(status)
    for key in ("search_response", "subscribe_response"):
        if key in status:
            kept = [item for item in status[key] if item.get("reference_id") in references]
            status[key] = kept or [
                {
                    "reference_id": sorted(references)[0],
                    "timestamp": now_ts(),
                    "status": RequestStatus.RJCT.value,
                    "status_reason_code": SearchStatusReasonCode.REFERENCE_ID_INVALID.value,
                    "status_reason_message": "no such reference_id in this transaction",
                }
            ]
    return status


def unknown_txn_status(txn_type, query):
    item = {
        "reference_id": query.reference_id,
        "timestamp": now_ts(),
        "status": RequestStatus.RJCT.value,
        "status_reason_code": SearchStatusReasonCode.REFERENCE_ID_INVALID.value,
        "status_reason_message": "no transaction of yours matches this query",
    }
    correlation = (
        query.attribute_value
        if query.attribute_type == TxnAttributeType.CORRELATION_ID
        else "unknown"
    )
    transaction = (
        query.attribute_value
        if query.attribute_type == TxnAttributeType.TRANSACTION_ID
        else "unknown"
    )
    if txn_type == TxnType.SEARCH:
        return {
            "transaction_id": transaction,
            "correlation_id": correlation,
            "search_response": [item],
        }
    if txn_type == TxnType.SUBSCRIBE:
        return {
            "transaction_id": transaction,
            "correlation_id": correlation,
            "subscribe_response": [item],
        }
    return {
        "transaction_id": transaction,
        "correlation_id": correlation,
        "timestamp": now_ts(),
        "status": RequestStatus.RJCT.value,
        "status_reason_code": UnSubscribeStatusReasonCode.REFERENCE_ID_INVALID.value,
        "status_reason_message": item["status_reason_message"],
    }
