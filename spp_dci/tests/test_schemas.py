"""DCI 1.0.0 message models: round trips, spec validity, rejections, error mapper."""

import copy
from datetime import UTC, datetime, timedelta, timezone

from pydantic import ValidationError

from odoo.addons.spp_dci.dci import spec
from odoo.addons.spp_dci.dci.codes import (
    AckStatus,
    Action,
    ErrorCode,
    MsgHeaderStatusReasonCode,
    QueryType,
    RegEventType,
    RegistryType,
    RequestStatus,
    SearchStatusReasonCode,
    SortOrder,
    SubscribeStatusReasonCode,
    SubscriptionStatus,
    TxnAttributeType,
    TxnType,
    UnSubscribeStatusReasonCode,
    YesNo,
)
from odoo.addons.spp_dci.dci.errors import (
    DCIError,
    ack_body,
    error_ack_body,
    from_validation_error,
    http_error_body,
)
from odoo.addons.spp_dci.dci.schemas import (
    ACTION_MESSAGES,
    ENDPOINTS,
    DisabilityRecords,
    DisabilitySearchResponseItem,
    DisabledCriteria,
    DisabledRequest,
    DisabledResponse,
    DisabledResponseItem,
    EncryptedMessage,
    EnrolledCriteria,
    EnrolledRequest,
    EnrolledResponse,
    EnrolledResponseItem,
    EnrollmentUpdatesRequest,
    EnrollmentUpdatesResponse,
    EventFrequency,
    ExpressionQuery,
    FileInfo,
    GetDisabilityInfoResponse,
    GetDisabilitySupportRequest,
    GetDisabilitySupportResponse,
    IdTypeValueQuery,
    MsgCallbackHeader,
    MsgHeader,
    NotifyEventRequest,
    Pagination,
    PaginationRequest,
    Predicate,
    PredicateWithCondition,
    Response,
    SearchCriteria,
    SearchRequest,
    SearchResponse,
    SearchSort,
    SubscribeCriteria,
    SubscribeRequest,
    SubscribeResponse,
    SubscriptionCallbackHeader,
    SubscriptionInfo,
    TxnStatusRequest,
    TxnStatusResponse,
    UnSubscribeRequest,
    UnSubscribeResponse,
    envelope_model,
    parse_ack,
    parse_callback_envelope,
    parse_endpoint_reply,
    parse_endpoint_request,
    parse_request_envelope,
)
from odoo.addons.spp_dci.dci.schemas.notify import NotifyEvent, NotifyEventData
from odoo.addons.spp_dci.dci.schemas.search import (
    ExpressionTemplate,
    SearchRequestItem,
    SearchResponseData,
    SearchResponseItem,
)
from odoo.addons.spp_dci.dci.schemas.subscribe import (
    SubscribeRequestItem,
    SubscribeResponseItem,
    SubscriptionStatusItem,
)
from odoo.addons.spp_dci.dci.schemas.txn import (
    ReceiptInformation,
    TxnReceiptStatus,
    TxnStatusQuery,
    TxnStatusResult,
)
from odoo.tests import tagged
from odoo.tests.common import BaseCase

TS = datetime(2024, 1, 1, 10, 0, tzinfo=UTC)
ALL = spec.REGISTRIES
WITH_TXN = ("social", "crvs", "ibr", "fr")  # dr has no txn/status paths
# reg_records is an object in the dr SearchResponse and in the crvs/fr copy of it
# inside TxnStatusResponse; an array everywhere else.
RECORDS_AS_OBJECT = {"on-search": ("dr",), "txn-on-status": ("crvs", "fr")}
RECORD = {
    "@context": {"spdci": "https://schema.spdci.org/extensions/social/v1/"},
    "@type": "spdci:Group",
    "group_identifier": [
        {"@type": "Identifier", "identifier_type": "UIN", "identifier_value": "G1"}
    ],
}

QUERIES = {
    QueryType.IDTYPE_VALUE: IdTypeValueQuery(type="UIN", value="847951632"),
    QueryType.EXPRESSION: ExpressionQuery(
        type="ns:org:QueryType:NoSql",
        value={
            "expression": {
                "collection": "Group",
                "query": {"$and": [{"poverty_score": {"$lt": 5}}]},
            }
        },
    ),
    QueryType.PREDICATE: [
        PredicateWithCondition(
            seq_num=1,
            expression1=Predicate(attribute_name="YOB", operator="ge", attribute_value="1980"),
            condition="and",
            expression2=Predicate(attribute_name="YOB", operator="le", attribute_value="1990"),
        )
    ],
    QueryType.GRAPHQL: ExpressionQuery(
        type="ns:org:QueryType:graphql",
        value={"expression": "query { member(identifier: {type: UIN}) { name } }"},
    ),
}


# --- message builders ------------------------------------------------------------


def request_header(action, total_count=1, **values):
    return MsgHeader(
        message_id="msg-1",
        message_ts=TS,
        action=action,
        sender_id="spmis.example.org",
        sender_uri="https://spmis.example.org/dci/callback",
        receiver_id="registry.example.org",
        total_count=total_count,
        **values,
    )


def callback_header(action, **values):
    values.setdefault("status", RequestStatus.SUCC)
    return MsgCallbackHeader(
        message_id="msg-2",
        message_ts=TS,
        action=action,
        total_count=1,
        completed_count=1,
        sender_id="registry.example.org",
        receiver_id="spmis.example.org",
        **values,
    )


def subscription_callback_header(action):
    """Satisfies MsgHeader_V1.0.0 (social...dr) and MsgCallbackHeader (fr) at once."""
    return SubscriptionCallbackHeader(
        message_id="msg-3",
        message_ts=TS,
        action=action,
        status=RequestStatus.SUCC,
        sender_id="registry.example.org",
        total_count=1,
    )


def search_request(query_type=QueryType.IDTYPE_VALUE):
    criteria = SearchCriteria(
        reg_type=RegistryType.SOCIAL,
        reg_record_type="Group",
        query_type=query_type,
        query=QUERIES[query_type],
        sort=[SearchSort(attribute_name="poverty_score", sort_order=SortOrder.ASC)],
        pagination=PaginationRequest(page_size=100, page_number=2),
        consent={"@type": "Consent", "purpose": {"code": "eligibility"}},
        authorize={"@type": "Authorize"},
    )
    item = SearchRequestItem(
        reference_id="ref-1", timestamp=TS, search_criteria=criteria, locale="eng"
    )
    return SearchRequest(transaction_id="txn-1", search_request=[item])


def search_response(records_as_object=False, item_model=SearchResponseItem):
    data = SearchResponseData(
        reg_type=RegistryType.SOCIAL,
        reg_record_type="Group",
        reg_records=RECORD if records_as_object else [RECORD],
    )
    item = item_model(
        reference_id="ref-1",
        timestamp=TS,
        status=RequestStatus.SUCC,
        data=data,
        pagination=Pagination(page_size=100, page_number=1, total_count=1),
        locale="eng",
    )
    return SearchResponse(transaction_id="txn-1", correlation_id="cor-1", search_response=[item])


def subscribe_criteria():
    return SubscribeCriteria(
        reg_type=RegistryType.SOCIAL,
        reg_event_type=RegEventType.REGISTER,
        frequency=EventFrequency(
            start_time=TS, end_time=TS + timedelta(days=365), frequency="0 0 * * *"
        ),
        filter_type=QueryType.IDTYPE_VALUE,
        filter=IdTypeValueQuery(type="UIN", value="847951632"),
        notify_record_type="Group",
    )


def subscribe_request():
    item = SubscribeRequestItem(
        reference_id="ref-1",
        timestamp=TS,
        subscribe_criteria=subscribe_criteria(),
        locale="eng",
    )
    return SubscribeRequest(transaction_id="txn-1", subscribe_request=[item])


def subscribe_response():
    criteria = subscribe_criteria()
    info = SubscriptionInfo(
        code="sub-1",
        status=SubscriptionStatus.SUBSCRIBE,
        timestamp=TS,
        reg_type=criteria.reg_type,
        reg_event_type=criteria.reg_event_type,
        frequency=criteria.frequency,
        filter_type=criteria.filter_type,
        filter=criteria.filter,
        notify_record_type=criteria.notify_record_type,
    )
    item = SubscribeResponseItem(
        reference_id="ref-1",
        timestamp=TS,
        status=RequestStatus.SUCC,
        subscriptions=[info],
    )
    return SubscribeResponse(
        transaction_id="txn-1", correlation_id="cor-1", subscribe_response=[item]
    )


def unsubscribe_request():
    return UnSubscribeRequest(transaction_id="txn-2", timestamp=TS, subscription_codes=["sub-1"])


def unsubscribe_response():
    return UnSubscribeResponse(
        transaction_id="txn-2",
        correlation_id="cor-2",
        timestamp=TS,
        status=RequestStatus.SUCC,
        subscription_status=[
            SubscriptionStatusItem(code="sub-1", status=SubscriptionStatus.UNSUBSCRIBE)
        ],
    )


def notify_request(registry="social"):
    # NotifyEventRequest enumerates reg_event_type per bundle.
    event_type = RegEventType.ENROLLMENT if registry == "ibr" else RegEventType.REGISTER
    data = NotifyEventData(
        reg_type=RegistryType.SOCIAL,
        reg_event_type=event_type,
        reg_record_type="Group",
        reg_records=RECORD,
    )
    event = NotifyEvent(reference_id="ref-9", timestamp=TS, data=data, locale="eng")
    return NotifyEventRequest(transaction_id="txn-9", notify_event=[event])


def txn_status_request(
    txn_type=TxnType.SEARCH,
    attribute_type=TxnAttributeType.TRANSACTION_ID,
    attribute_value="txn-1",
):
    query = TxnStatusQuery(
        reference_id="ref-5",
        txn_type=txn_type,
        attribute_type=attribute_type,
        attribute_value=attribute_value,
        locale="eng",
    )
    return TxnStatusRequest(transaction_id="txn-5", txnstatus_request=query)


def txn_status_response(txn_type=TxnType.SEARCH, records_as_object=False):
    status = {
        TxnType.SEARCH: lambda: search_response(records_as_object),
        TxnType.SUBSCRIBE: subscribe_response,
        TxnType.UNSUBSCRIBE: unsubscribe_response,
        TxnType.RECEIPT: lambda: TxnReceiptStatus(
            transaction_id="txn-1",
            receipt_information=ReceiptInformation(beneficiaries=[RECORD]),
        ),
    }[txn_type]()
    return TxnStatusResponse(
        transaction_id="txn-5",
        correlation_id="cor-5",
        txnstatus_response=TxnStatusResult(txn_type=txn_type, txn_status=status),
    )


def encrypted_message():
    return EncryptedMessage(
        header={"alg": "RSA-OAEP-256", "enc": "A256GCM", "kid": "spmis|k1|rsa"},
        ciphertext="5eym8TW_c8SuK0ltJ3rpYIzOeDQz7TALvtu6UG9oMo4",
        encrypted_key="OKOawDo13gRp2ojaHV7LFpZcgV7T6DVZKTyKOMTYUmKoTCVJRgckCL9kiMT03JGe",
        tag="Mz-VPPyU4RlcuYv1IwIvzw",
        iv="48V1_ALb6US04U3b",
    )


def request_envelope(action, message, total_count=1, **header):
    return envelope_model(action, type(message))(
        signature="Signature: sig",
        header=request_header(action, total_count=total_count, **header),
        message=message,
    )


def callback_envelope(action, message):
    if action in (Action.ON_SUBSCRIBE, Action.ON_UNSUBSCRIBE):
        header = subscription_callback_header(action)
    else:
        header = callback_header(action)
    return envelope_model(action, type(message))(
        signature="Signature: sig", header=header, message=message
    )


def search_request_json(**header):
    return request_envelope(Action.SEARCH, search_request(), **header).to_json()


def nested(data, *path):
    for key in path:
        data = data[key]
    return data


@tagged("post_install", "-at_install", "dci_core")
class TestRoundTrip(BaseCase):
    """Every message survives to_json -> from_json -> to_json unchanged."""

    def assertRoundTrip(self, model):
        wire = model.to_json()
        again = type(model).from_json(wire)
        self.assertEqual(again.to_json(), wire)
        self.assertEqual(again, model)
        return wire

    def test_messages(self):
        messages = {
            "search": search_request(),
            "on-search": search_response(),
            "on-search (object records)": search_response(records_as_object=True),
            "subscribe": subscribe_request(),
            "on-subscribe": subscribe_response(),
            "unsubscribe": unsubscribe_request(),
            "on-unsubscribe": unsubscribe_response(),
            "notify": notify_request(),
            "txn-status": txn_status_request(),
            "encrypted": encrypted_message(),
            "ack": Response(
                message={
                    "ack_status": AckStatus.ACK,
                    "timestamp": TS,
                    "correlation_id": "cor-1",
                }
            ),
        }
        for query_type in QueryType:
            messages[f"search {query_type}"] = search_request(query_type)
        for txn_type in TxnType:
            messages[f"txn-on-status {txn_type}"] = txn_status_response(txn_type)
        for name, model in messages.items():
            with self.subTest(name):
                self.assertRoundTrip(model)

    def test_envelopes_through_endpoint_parsers(self):
        cases = [
            ("/registry/search", request_envelope(Action.SEARCH, search_request())),
            (
                "/registry/subscribe",
                request_envelope(Action.SUBSCRIBE, subscribe_request()),
            ),
            (
                "/registry/unsubscribe",
                request_envelope(Action.UNSUBSCRIBE, unsubscribe_request()),
            ),
            (
                "/registry/txn/status",
                request_envelope(Action.TXN_STATUS, txn_status_request()),
            ),
            (
                "/registry/on-search",
                callback_envelope(Action.ON_SEARCH, search_response()),
            ),
            (
                "/registry/on-subscribe",
                callback_envelope(Action.ON_SUBSCRIBE, subscribe_response()),
            ),
            (
                "/registry/on-unsubscribe",
                callback_envelope(Action.ON_UNSUBSCRIBE, unsubscribe_response()),
            ),
            ("/registry/notify", callback_envelope(Action.NOTIFY, notify_request())),
            (
                "/registry/txn/on-status",
                callback_envelope(Action.TXN_ON_STATUS, txn_status_response()),
            ),
        ]
        for path, envelope in cases:
            with self.subTest(path):
                wire = envelope.to_json()
                parsed = parse_endpoint_request(path, copy.deepcopy(wire))
                self.assertIs(type(parsed), type(envelope))
                self.assertEqual(parsed.to_json(), wire)
                self.assertIs(type(parsed.message), ENDPOINTS[path].message)

    def test_parse_helpers_pick_the_message_model(self):
        headers = {
            Action.SEARCH: MsgHeader,
            Action.SUBSCRIBE: MsgHeader,
            Action.UNSUBSCRIBE: MsgHeader,
            Action.TXN_STATUS: MsgHeader,
            Action.ON_SUBSCRIBE: SubscriptionCallbackHeader,
            Action.ON_UNSUBSCRIBE: SubscriptionCallbackHeader,
            Action.ON_SEARCH: MsgCallbackHeader,
            Action.NOTIFY: MsgCallbackHeader,
            Action.TXN_ON_STATUS: MsgCallbackHeader,
        }
        self.assertEqual(set(ACTION_MESSAGES), set(Action))
        for action, model in ACTION_MESSAGES.items():
            envelope = envelope_model(action)
            self.assertIs(envelope.model_fields["header"].annotation, headers[action])
            self.assertTrue(envelope.__name__.endswith(f"[{model.__name__}]"))
        parsed = parse_request_envelope(search_request_json())
        self.assertIsInstance(parsed.message, SearchRequest)
        wire = callback_envelope(Action.NOTIFY, notify_request()).to_json()
        parsed = parse_callback_envelope(wire, Action.NOTIFY)
        self.assertIsInstance(parsed.message, NotifyEventRequest)
        self.assertIsInstance(parsed.header, MsgCallbackHeader)

    def test_encrypted_envelope(self):
        wire = request_envelope(Action.SEARCH, encrypted_message(), is_msg_encrypted=True).to_json()
        parsed = parse_request_envelope(wire, Action.SEARCH)
        self.assertIsInstance(parsed.message, EncryptedMessage)
        self.assertEqual(parsed.message.header.enc, "A256GCM")
        self.assertEqual(parsed.to_json(), wire)

    def test_callback_without_message(self):
        """on-search may carry only a header (e.g. status rjct for the whole message)."""
        envelope = envelope_model(Action.ON_SEARCH)(
            header=callback_header(
                Action.ON_SEARCH,
                status=RequestStatus.RJCT,
                status_reason_code=MsgHeaderStatusReasonCode.MESSAGE_ID_DUPLICATE,
            )
        )
        wire = envelope.to_json()
        self.assertNotIn("message", wire)
        parsed = parse_callback_envelope(wire, Action.ON_SEARCH)
        self.assertIsNone(parsed.message)
        self.assertEqual(parsed.header.status_reason_code, "rjct.message_id.duplicate")

    def test_wire_format(self):
        wire = search_request_json()
        self.assertEqual(wire["header"]["message_ts"], "2024-01-01T10:00:00.000Z")
        self.assertEqual(wire["header"]["version"], "1.0.0")
        self.assertIs(wire["header"]["is_msg_encrypted"], False)
        self.assertNotIn("meta", wire["header"])  # None is left out, never null
        item = wire["message"]["search_request"][0]
        self.assertEqual(item["search_criteria"]["reg_type"], "ns:org:RegistryType:Social")
        offset = timezone(timedelta(hours=-4))
        model = SearchRequestItem.from_json(dict(item, timestamp="2022-12-04T17:20:07-04:00"))
        self.assertEqual(model.timestamp, datetime(2022, 12, 4, 17, 20, 7, tzinfo=offset))
        self.assertEqual(model.to_json()["timestamp"], "2022-12-04T17:20:07.000-04:00")

    def test_aliases(self):
        info = FileInfo(action=Action.SEARCH, file_name="batch.json")
        self.assertEqual(
            info.to_json(),
            {"action": "search", "fileName": "batch.json", "fileFormat": "json"},
        )
        self.assertEqual(FileInfo.from_json(info.to_json()), info)
        template = QUERIES[QueryType.EXPRESSION].expression()
        self.assertIsInstance(template, ExpressionTemplate)
        self.assertEqual(template.collection, "Group")
        clause = template.query.and_[0]
        self.assertEqual(clause.conditions(), {"poverty_score": {"$lt": 5}})
        self.assertEqual(
            template.to_json(),
            {
                "collection": "Group",
                "query": {"$and": [{"poverty_score": {"$lt": 5}}]},
            },
        )
        self.assertTrue(QUERIES[QueryType.GRAPHQL].expression().startswith("query"))

    def test_unknown_keys_are_ignored_but_json_ld_kept(self):
        wire = search_request_json()
        wire["header"]["x-gateway"] = "gw-1"
        wire["message"]["search_request"][0]["search_criteria"]["consent"]["x"] = 1
        parsed = parse_request_envelope(wire, Action.SEARCH).to_json()
        self.assertNotIn("x-gateway", parsed["header"])
        self.assertEqual(
            parsed["message"]["search_request"][0]["search_criteria"]["consent"]["x"], 1
        )
        response = search_response().to_json()
        response["search_response"][0]["data"]["@context"] = "https://schema.spdci.org"
        data = SearchResponse.from_json(response).to_json()["search_response"][0]["data"]
        self.assertEqual(data["@context"], "https://schema.spdci.org")
        self.assertEqual(data["reg_records"], [RECORD])


@tagged("post_install", "-at_install", "dci_core")
class TestSpecValidity(BaseCase):
    """What we build validates against the OpenAPI schema of every registry spec."""

    def assertValidRequest(self, registries, path, envelope):
        for registry in registries:
            with self.subTest(registry=registry, path=path):
                spec.validate_request(registry, path, envelope.to_json())

    def assertValidReply(self, registries, path, body, status=200):
        for registry in registries:
            with self.subTest(registry=registry, path=path, status=status):
                spec.validate_response(registry, path, body, status)

    def test_search(self):
        for query_type in (
            QueryType.IDTYPE_VALUE,
            QueryType.EXPRESSION,
            QueryType.PREDICATE,
        ):
            envelope = request_envelope(Action.SEARCH, search_request(query_type))
            self.assertValidRequest(ALL, "/registry/search", envelope)
            self.assertValidRequest(ALL, "/registry/sync/search", envelope)

    def test_search_graphql_only_in_crvs_dr_fr(self):
        envelope = request_envelope(Action.SEARCH, search_request(QueryType.GRAPHQL))
        self.assertValidRequest(("crvs", "dr", "fr"), "/registry/search", envelope)
        for registry in ("social", "ibr"):
            with self.assertRaises(spec.SpecValidationError) as caught:
                spec.validate_request(registry, "/registry/search", envelope.to_json())
            self.assertIn("query_type", str(caught.exception))

    def test_on_search_and_sync_search_reply(self):
        object_form = RECORDS_AS_OBJECT["on-search"]
        for registry in ALL:
            envelope = callback_envelope(Action.ON_SEARCH, search_response(registry in object_form))
            self.assertValidRequest((registry,), "/registry/on-search", envelope)
            self.assertValidReply((registry,), "/registry/sync/search", envelope.to_json())
        # dr types reg_records as an object (spec defect): a list is rejected.
        listed = callback_envelope(Action.ON_SEARCH, search_response()).to_json()
        with self.assertRaises(spec.SpecValidationError) as caught:
            spec.validate_request("dr", "/registry/on-search", listed)
        self.assertIn("reg_records", str(caught.exception))

    def test_subscription(self):
        self.assertValidRequest(
            ALL,
            "/registry/subscribe",
            request_envelope(Action.SUBSCRIBE, subscribe_request()),
        )
        self.assertValidRequest(
            ALL,
            "/registry/on-subscribe",
            callback_envelope(Action.ON_SUBSCRIBE, subscribe_response()),
        )
        self.assertValidRequest(
            ALL,
            "/registry/unsubscribe",
            request_envelope(Action.UNSUBSCRIBE, unsubscribe_request()),
        )
        self.assertValidRequest(
            ALL,
            "/registry/on-unsubscribe",
            callback_envelope(Action.ON_UNSUBSCRIBE, unsubscribe_response()),
        )

    def test_notify(self):
        for registry in ALL:
            envelope = callback_envelope(Action.NOTIFY, notify_request(registry))
            self.assertValidRequest((registry,), "/registry/notify", envelope)

    def test_txn_status(self):
        envelope = request_envelope(Action.TXN_STATUS, txn_status_request())
        self.assertValidRequest(WITH_TXN, "/registry/txn/status", envelope)
        self.assertValidRequest(WITH_TXN, "/registry/sync/txn/status", envelope)
        by_reference = txn_status_request(
            attribute_type=TxnAttributeType.REFERENCE_ID_LIST,
            attribute_value=["ref-1", "ref-2"],
        )
        self.assertValidRequest(
            WITH_TXN,
            "/registry/txn/status",
            request_envelope(Action.TXN_STATUS, by_reference),
        )
        by_code = txn_status_request(
            txn_type=TxnType.UNSUBSCRIBE,
            attribute_type=TxnAttributeType.SUBSCRIPTION_CODE_LIST,
            attribute_value=["sub-1"],
        )
        self.assertValidRequest(
            ("crvs", "fr"),
            "/registry/txn/status",
            request_envelope(Action.TXN_STATUS, by_code),
        )
        receipt = txn_status_request(txn_type=TxnType.RECEIPT)
        self.assertValidRequest(
            ("social", "ibr"),
            "/registry/txn/status",
            request_envelope(Action.TXN_STATUS, receipt),
        )

    def test_txn_on_status_and_sync_reply(self):
        object_form = RECORDS_AS_OBJECT["txn-on-status"]
        valid_types = {
            "social": (TxnType.SEARCH, TxnType.RECEIPT),
            "ibr": (TxnType.SEARCH, TxnType.RECEIPT),
            "crvs": (TxnType.SEARCH, TxnType.SUBSCRIBE, TxnType.UNSUBSCRIBE),
            "fr": (TxnType.SEARCH, TxnType.SUBSCRIBE, TxnType.UNSUBSCRIBE),
        }
        for registry, txn_types in valid_types.items():
            for txn_type in txn_types:
                message = txn_status_response(txn_type, registry in object_form)
                envelope = callback_envelope(Action.TXN_ON_STATUS, message)
                self.assertValidRequest((registry,), "/registry/txn/on-status", envelope)
                self.assertValidReply((registry,), "/registry/sync/txn/status", envelope.to_json())

    def test_encrypted_message_and_file_upload(self):
        envelope = request_envelope(Action.SEARCH, encrypted_message(), is_msg_encrypted=True)
        self.assertValidRequest(ALL, "/registry/search", envelope)
        upload = FileInfo(action=Action.SEARCH, file_name="batch.json").to_json()
        for registry in ALL:
            with self.subTest(registry=registry):
                spec.validate_request(registry, "/registry/search", upload, "multipart/form-data")

    def test_ibr_sync_paths(self):
        enrolled = EnrolledRequest(
            transaction_id="txn-1",
            enrolled_criteria=EnrolledCriteria(
                query_type=QueryType.IDTYPE_VALUE,
                query={"type": "UIN", "value": "847951632"},
                response_entity="Member",
            ),
        )
        self.assertValidRequest(
            ("ibr",), "/registry/sync/enrolled", request_envelope(Action.SEARCH, enrolled)
        )
        reply = EnrolledResponse(
            transaction_id="txn-1",
            correlation_id="cor-1",
            enrolled_response=[
                EnrolledResponseItem(
                    reference_id="ref-1",
                    timestamp=TS,
                    status=RequestStatus.SUCC,
                    enrolled_status=YesNo.YES,
                )
            ],
        )
        # The ibr spec answers these paths with the bare message (no envelope).
        self.assertValidReply(("ibr",), "/registry/sync/enrolled", reply.to_json())
        self.assertEqual(parse_endpoint_reply("/registry/sync/enrolled", reply.to_json()), reply)
        updates = EnrollmentUpdatesRequest(
            transaction_id="txn-2", enrolled_updates={"beneficiaries": [RECORD]}
        )
        self.assertValidRequest(
            ("ibr",),
            "/registry/sync/enrollment/updates",
            callback_envelope(Action.NOTIFY, updates),
        )
        updates_reply = EnrollmentUpdatesResponse(
            transaction_id="txn-2",
            correlation_id="cor-2",
            enrolled_response=[
                {"reference_id": "ref-1", "timestamp": TS, "status": RequestStatus.RCVD}
            ],
        )
        self.assertValidReply(
            ("ibr",), "/registry/sync/enrollment/updates", updates_reply.to_json()
        )

    def test_dr_sync_paths(self):
        criteria = DisabledCriteria(
            query_type=QueryType.IDTYPE_VALUE, query={"type": "UIN", "value": "1"}
        )
        disabled = DisabledRequest(transaction_id="txn-1", disabled_criteria=criteria)
        support = GetDisabilitySupportRequest(transaction_id="txn-1", disabled_criteria=criteria)
        item = {
            "reference_id": "ref-1",
            "timestamp": TS,
            "status": RequestStatus.SUCC,
        }
        replies = {
            "/registry/sync/disabled": (
                disabled,
                DisabledResponse(
                    transaction_id="txn-1",
                    correlation_id="cor-1",
                    disabled_response=[DisabledResponseItem(**item, disabled_status=YesNo.NO)],
                ),
            ),
            "/registry/sync/get-disability-details": (
                support,
                GetDisabilityInfoResponse(
                    transaction_id="txn-1",
                    correlation_id="cor-1",
                    search_response=[
                        DisabilitySearchResponseItem(
                            **item, data=DisabilityRecords(reg_records=[RECORD])
                        )
                    ],
                ),
            ),
            "/registry/sync/get-disability-support": (
                support,
                GetDisabilitySupportResponse(
                    transaction_id="txn-1",
                    correlation_id="cor-1",
                    search_response=[
                        DisabilitySearchResponseItem(
                            **item, data=DisabilityRecords(reg_records=[[RECORD]])
                        )
                    ],
                ),
            ),
        }
        for path, (request, reply) in replies.items():
            self.assertValidRequest(("dr",), path, request_envelope(Action.SEARCH, request))
            wire = callback_envelope(Action.ON_SEARCH, reply).to_json()
            self.assertValidReply(("dr",), path, wire)
            self.assertEqual(parse_endpoint_reply(path, wire).message, reply)

    def test_ack_and_http_error_bodies(self):
        acks = [
            ack_body(AckStatus.ACK, "cor-1"),
            ack_body(AckStatus.NACK, "cor-1", timestamp=TS),
            error_ack_body(DCIError(ErrorCode.SIGNATURE_INVALID, "bad"), "cor-1"),
            error_ack_body(
                DCIError(SearchStatusReasonCode.PAGINATION_INVALID, "page_size"), "cor-1"
            ),
        ]
        http_errors = [
            (401, http_error_body(ErrorCode.REQUEST_UNAUTHORIZED, "token expired")),
            (403, DCIError(ErrorCode.REQUEST_FORBIDDEN, "scope").http_body()),
            (500, http_error_body(ErrorCode.SERVICE_UNAVAILABLE, "down")),
        ]
        for registry in ALL:
            paths = [p for p, e in ENDPOINTS.items() if registry in e.registries]
            for path in paths:
                if not ENDPOINTS[path].is_sync:
                    for body in acks:
                        self.assertValidReply((registry,), path, body)
                for status, body in http_errors:
                    self.assertValidReply((registry,), path, body, status)


@tagged("post_install", "-at_install", "dci_core")
class TestRejections(BaseCase):
    """What a strict peer rejects, and the spec code each rejection maps to."""

    def assertRejected(self, code, wire, parse=parse_request_envelope, action=Action.SEARCH):
        with self.assertRaises(DCIError) as caught:
            parse(wire, action)
        self.assertEqual(caught.exception.code, code, caught.exception.message)
        self.assertIsInstance(caught.exception.message, str)
        self.assertNotIn("Traceback", caught.exception.message)
        return caught.exception

    def mutate(self, *path, value, wire=None):
        wire = wire or search_request_json()
        *parents, key = path
        target = nested(wire, *parents)
        if value is KeyError:
            del target[key]
        else:
            target[key] = value
        return wire

    def item(self, *path, value):
        return self.mutate("message", "search_request", 0, *path, value=value)

    def test_timestamps(self):
        err = self.assertRejected(
            MsgHeaderStatusReasonCode.MESSAGE_TS_INVALID,
            self.mutate("header", "message_ts", value="2024-01-01T10:00:00"),
        )
        self.assertIn("header.message_ts", err.message)
        for value in ("2024-01-01", 1704103200, "2024-01-01 10:00:00Z", ""):
            with self.subTest(value=value):
                self.assertRejected(
                    SearchStatusReasonCode.TIMESTAMP_INVALID,
                    self.item("timestamp", value=value),
                )
        with self.assertRaises(ValidationError):
            MsgHeader(
                message_id="m",
                message_ts=datetime(2024, 1, 1),  # naive
                action=Action.SEARCH,
                sender_id="s",
                total_count=1,
            )

    def test_locale(self):
        for value in ("en", "EN/GB", "Eng", ""):
            with self.subTest(value=value):
                err = self.assertRejected(ErrorCode.REQUEST_BAD, self.item("locale", value=value))
                self.assertIn("locale", err.message)

    def test_identifier_lengths(self):
        self.assertEqual(
            parse_request_envelope(
                self.mutate("message", "transaction_id", value="t" * 99)
            ).message.transaction_id,
            "t" * 99,
        )
        err = self.assertRejected(
            ErrorCode.REQUEST_BAD,
            self.mutate("message", "transaction_id", value="t" * 100),
        )
        self.assertIn("at most 99", err.message)
        self.assertRejected(
            ErrorCode.REQUEST_BAD, self.mutate("message", "transaction_id", value="")
        )
        self.assertRejected(
            SearchStatusReasonCode.REFERENCE_ID_INVALID,
            self.item("reference_id", value=""),
        )
        self.assertRejected(
            ErrorCode.SENDER_ID_INVALID, self.mutate("header", "sender_id", value="")
        )
        self.assertRejected(
            ErrorCode.SENDER_URI_INVALID,
            self.mutate("header", "sender_uri", value="/relative/path"),
        )
        with self.assertRaises(ValidationError):
            UnSubscribeRequest(transaction_id="t", timestamp=TS, subscription_codes=["c" * 100])

    def test_pagination(self):
        for key, value in (
            ("page_size", 0),
            ("page_number", 0),
            ("page_size", "10"),
            ("page_size", 2**31),
            ("page_size", KeyError),
        ):
            with self.subTest(key=key, value=value):
                err = self.assertRejected(
                    SearchStatusReasonCode.PAGINATION_INVALID,
                    self.item("search_criteria", "pagination", key, value=value),
                )
                self.assertIn("pagination", err.message)
        self.assertRejected(
            SearchStatusReasonCode.SORT_INVALID,
            self.item("search_criteria", "sort", 0, "sort_order", value="ASC"),
        )

    def test_actions(self):
        self.assertRejected(
            MsgHeaderStatusReasonCode.ACTION_NOT_SUPPORTED,
            self.mutate("header", "action", value="verify"),
        )
        err = self.assertRejected(
            MsgHeaderStatusReasonCode.ACTION_INVALID,
            self.mutate("header", "action", value="subscribe"),
        )
        self.assertIn("expected 'search'", err.message)
        self.assertRejected(
            MsgHeaderStatusReasonCode.ACTION_INVALID,
            self.mutate("header", "action", value=KeyError),
        )
        # a callback action posted to a registry endpoint
        self.assertRejected(
            MsgHeaderStatusReasonCode.ACTION_NOT_SUPPORTED,
            self.mutate("header", "action", value="on-search"),
            action=None,
        )
        with self.assertRaises(ValidationError):
            MsgHeader(
                message_id="m",
                message_ts=TS,
                action="verify",
                sender_id="s",
                total_count=1,
            )

    def test_query(self):
        err = self.assertRejected(
            SearchStatusReasonCode.SEARCH_CRITERIA_INVALID,
            self.item("search_criteria", "query_type", value="sql"),
        )
        self.assertIn("query_type", err.message)
        # query_type and query shape must agree
        self.assertRejected(
            SearchStatusReasonCode.SEARCH_CRITERIA_INVALID,
            self.item("search_criteria", "query_type", value="predicate"),
        )
        wire = self.item(
            "search_criteria",
            "query",
            value=[{"expression1": {"attribute_name": "a", "operator": "like"}}],
        )
        self.mutate(
            "message",
            "search_request",
            0,
            "search_criteria",
            "query_type",
            value="predicate",
            wire=wire,
        )
        self.assertRejected(SearchStatusReasonCode.SEARCH_CRITERIA_INVALID, wire)
        with self.assertRaises(ValidationError):
            Predicate(attribute_name="a", operator="eq", attribute_value=["x"])
        with self.assertRaises(ValidationError):
            ExpressionTemplate.model_validate({"query": {"age": {"$like": 3}}})

    def test_header_fields(self):
        self.assertRejected(
            MsgHeaderStatusReasonCode.TOTAL_COUNT_INVALID,
            self.mutate("header", "total_count", value="1"),
        )
        err = self.assertRejected(
            MsgHeaderStatusReasonCode.TOTAL_COUNT_INVALID,
            self.mutate("header", "total_count", value=2),
        )
        self.assertIn("total_count (2)", err.message)
        err = self.assertRejected(
            MsgHeaderStatusReasonCode.VERSION_INVALID,
            self.mutate("header", "version", value="2.0.0"),
        )
        self.assertEqual(err.error_code, ErrorCode.VERSION_NOT_SUPPORTED)
        self.assertRejected(
            ErrorCode.ENCRYPTION_INVALID,
            self.mutate("header", "is_msg_encrypted", value="false"),
        )
        self.assertRejected(
            ErrorCode.ENCRYPTION_INVALID,
            self.mutate("header", "is_msg_encrypted", value=True),
        )
        self.assertRejected(ErrorCode.SIGNATURE_INVALID, self.mutate("signature", value={"k": "v"}))

    def test_nulls_and_bodies(self):
        err = self.assertRejected(ErrorCode.REQUEST_BAD, self.item("locale", value=None))
        self.assertIn("locale: Input should not be null", err.message)
        self.assertRejected(
            SearchStatusReasonCode.SORT_INVALID,
            self.item("search_criteria", "sort", value=None),
        )
        # absent is fine, and Python callers may pass None for "absent"
        parse_request_envelope(self.item("search_criteria", "sort", value=KeyError))
        self.assertIsNone(SearchSort(attribute_name="a", sort_order=None).sort_order)
        self.assertRejected(ErrorCode.REQUEST_BAD, ["not", "an", "object"])
        self.assertRejected(ErrorCode.REQUEST_BAD, {"headers": "", "message": ""})
        self.assertRejected(
            ErrorCode.REQUEST_BAD, self.mutate("message", "search_request", value=[])
        )
        encrypted = request_envelope(
            Action.SEARCH, encrypted_message(), is_msg_encrypted=True
        ).to_json()
        self.assertRejected(
            ErrorCode.ENCRYPTION_INVALID,
            self.mutate("message", "ciphertext", value="not base64!", wire=encrypted),
        )

    def test_batches(self):
        wire = search_request_json()
        wire["header"]["total_count"] = 2
        items = wire["message"]["search_request"]
        items.append(copy.deepcopy(items[0]))
        err = self.assertRejected(SearchStatusReasonCode.REFERENCE_ID_DUPLICATE, wire)
        self.assertIn("ref-1", err.message)
        items[1]["reference_id"] = "ref-2"
        self.assertEqual(len(parse_request_envelope(wire).message.search_request), 2)

    def test_subscription_messages(self):
        wire = request_envelope(Action.SUBSCRIBE, subscribe_request()).to_json()
        criteria = ("message", "subscribe_request", 0, "subscribe_criteria")
        for key, value, code in (
            ("notify_record_type", KeyError, SubscribeStatusReasonCode.NOTIFY_TYPES_INVALID),
            ("reg_event_type", "", SubscribeStatusReasonCode.NOTIFY_TYPES_INVALID),
            (
                "frequency",
                {"start_time": "2024-08-18T00:00:00Z"},
                SubscribeStatusReasonCode.NOTIFY_DETAILS_INVALID,
            ),
            ("filter_type", "predicate", SubscribeStatusReasonCode.NOTIFY_DETAILS_INVALID),
        ):
            with self.subTest(key=key):
                changed = self.mutate(*criteria, key, value=value, wire=copy.deepcopy(wire))
                self.assertRejected(code, changed, action=Action.SUBSCRIBE)
        wire = request_envelope(Action.UNSUBSCRIBE, unsubscribe_request()).to_json()
        self.assertRejected(
            UnSubscribeStatusReasonCode.SUBSCRIPTION_CODE_INVALID,
            self.mutate("message", "subscription_codes", 0, value="", wire=wire),
            action=Action.UNSUBSCRIBE,
        )
        self.assertRejected(
            UnSubscribeStatusReasonCode.TIMESTAMP_INVALID,
            self.mutate("message", "timestamp", value="yesterday", wire=wire),
            action=Action.UNSUBSCRIBE,
        )

    def test_on_subscribe_header(self):
        wire = callback_envelope(Action.ON_SUBSCRIBE, subscribe_response()).to_json()
        # MsgHeader form (social, crvs, ibr, dr): no status needed
        del wire["header"]["status"]
        parse_callback_envelope(copy.deepcopy(wire), Action.ON_SUBSCRIBE)
        # MsgCallbackHeader form (fr): no sender_id/total_count needed
        fr_form = copy.deepcopy(wire)
        fr_form["header"].update(status="succ")
        del fr_form["header"]["sender_id"], fr_form["header"]["total_count"]
        parse_callback_envelope(fr_form, Action.ON_SUBSCRIBE)
        del wire["header"]["total_count"]
        err = self.assertRejected(
            ErrorCode.REQUEST_BAD, wire, parse_callback_envelope, Action.ON_SUBSCRIBE
        )
        self.assertIn("MsgCallbackHeader", err.message)

    def test_txn_messages(self):
        with self.assertRaises(ValidationError):
            txn_status_request(
                attribute_type=TxnAttributeType.REFERENCE_ID_LIST,
                attribute_value="ref-1",
            )
        with self.assertRaises(ValidationError):
            txn_status_request(attribute_value=["txn-1"])
        # reference ids have no maxLength, subscription codes 99
        long_reference = txn_status_request(
            attribute_type=TxnAttributeType.REFERENCE_ID_LIST, attribute_value=["r" * 150]
        )
        self.assertEqual(long_reference.txnstatus_request.attribute_value, ["r" * 150])
        with self.assertRaises(ValidationError) as caught:
            txn_status_request(
                txn_type=TxnType.SUBSCRIBE,
                attribute_type=TxnAttributeType.SUBSCRIPTION_CODE_LIST,
                attribute_value=["c" * 100],
            )
        self.assertIn("at most 99", str(caught.exception))
        with self.assertRaises(ValidationError):
            TxnStatusResult(txn_type=TxnType.SUBSCRIBE, txn_status=search_response())
        wire = request_envelope(Action.TXN_STATUS, txn_status_request()).to_json()
        self.assertRejected(
            SearchStatusReasonCode.REFERENCE_ID_INVALID,
            self.mutate("message", "txnstatus_request", "reference_id", value="", wire=wire),
            action=Action.TXN_STATUS,
        )

    def test_ack_parsing(self):
        ack = ack_body(AckStatus.ACK, "cor-1", timestamp=TS)
        self.assertEqual(parse_ack(ack).message.correlation_id, "cor-1")
        with self.assertRaises(DCIError):
            parse_ack({"message": {"ack_status": "OK", "timestamp": "x"}})
        with self.assertRaises(DCIError) as caught:
            parse_endpoint_request("/registry/verify", {})
        self.assertEqual(caught.exception.code, ErrorCode.REQUEST_NOT_FOUND)
        self.assertEqual(caught.exception.http_status, 404)


@tagged("post_install", "-at_install", "dci_core")
class TestErrorMapper(BaseCase):
    def test_dci_error(self):
        err = DCIError("err.request.too_many_requests", "slow down", retry_after=30)
        self.assertIs(err.code, ErrorCode.REQUEST_TOO_MANY_REQUESTS)
        self.assertEqual(err.http_status, 429)
        self.assertEqual(err.http_headers, {"Retry-After": "30"})
        self.assertEqual(str(err), "err.request.too_many_requests: slow down")
        for code, status in (
            (ErrorCode.REQUEST_BAD, 400),
            (ErrorCode.REQUEST_UNAUTHORIZED, 401),
            (ErrorCode.SIGNATURE_MISSING, 401),
            (ErrorCode.REQUEST_FORBIDDEN, 403),
            (ErrorCode.REQUEST_NOT_FOUND, 404),
            (MsgHeaderStatusReasonCode.TOTAL_COUNT_LIMIT_EXCEEDED, 413),
            (ErrorCode.SERVICE_UNAVAILABLE, 503),
            (SearchStatusReasonCode.SEARCH_CRITERIA_INVALID, 400),
        ):
            self.assertEqual(DCIError(code, "x").http_status, status, code)
        self.assertEqual(DCIError(ErrorCode.REQUEST_BAD, "x", http_status=415).http_status, 415)
        self.assertEqual(DCIError(ErrorCode.REQUEST_BAD, "x").http_headers, {})
        with self.assertRaises(ValueError):
            DCIError("err.request.unknown", "x")

    def test_bodies(self):
        self.assertEqual(
            http_error_body(ErrorCode.REQUEST_UNAUTHORIZED, "token expired"),
            {"errors": [{"code": "err.request.unauthorized", "message": "token expired"}]},
        )
        rjct = DCIError(MsgHeaderStatusReasonCode.ACTION_NOT_SUPPORTED, "verify")
        self.assertEqual(rjct.http_body()["errors"][0]["code"], "rjct.action.not_supported")
        body = error_ack_body(rjct, "cor-1", timestamp=TS)
        self.assertEqual(
            body,
            {
                "message": {
                    "ack_status": "ERR",
                    "timestamp": "2024-01-01T10:00:00.000Z",
                    "error": {
                        "code": "err.request.bad",
                        "message": "rjct.action.not_supported: verify",
                    },
                    "correlation_id": "cor-1",
                }
            },
        )
        self.assertEqual(Response.from_json(body).message.error.code, ErrorCode.REQUEST_BAD)
        long_err = DCIError(ErrorCode.REQUEST_BAD, "x" * 5000)
        self.assertEqual(len(error_ack_body(long_err, "c")["message"]["error"]["message"]), 999)
        ack = ack_body("ACK", "cor-1")
        self.assertTrue(ack["message"]["timestamp"].endswith("Z"))
        self.assertNotIn("error", ack["message"])
        with self.assertRaises(ValueError):
            ack_body(AckStatus.ERR, "cor-1")
        dict_error = ack_body(
            AckStatus.ERR, "c", error={"code": "err.signature.missing", "message": "m"}
        )
        self.assertEqual(dict_error["message"]["error"]["code"], "err.signature.missing")

    def test_from_validation_error(self):
        secret = "SECRET-NATIONAL-ID-847951632"
        wire = search_request_json()
        wire["message"]["search_request"][0]["search_criteria"]["pagination"]["page_size"] = secret
        model = envelope_model(Action.SEARCH)
        with self.assertRaises(ValidationError) as caught:
            model.from_json(wire)
        err = from_validation_error(caught.exception)
        self.assertEqual(err.code, SearchStatusReasonCode.PAGINATION_INVALID)
        self.assertEqual(err.http_status, 400)
        self.assertNotIn(secret, err.message)  # the rejected input is never echoed
        self.assertTrue(
            err.message.startswith(
                "message.search_request.0.search_criteria.pagination.page_size:"
            ),
            err.message,
        )
        self.assertEqual(from_validation_error(caught.exception, 422).http_status, 422)
        # several errors: the header one wins, the count is reported
        wire["header"]["message_ts"] = "2024-01-01"
        with self.assertRaises(ValidationError) as caught:
            model.from_json(wire)
        err = from_validation_error(caught.exception)
        self.assertEqual(err.code, MsgHeaderStatusReasonCode.MESSAGE_TS_INVALID)
        self.assertIn("(and 1 more error(s))", err.message)
