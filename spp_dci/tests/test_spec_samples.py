"""The code lists against the spec files, spec.py, and every published sample message.

No sample of spdci-standards/release/sample-jsons is a valid DCI 1.0.0 message.
``SAMPLES`` records, for each one, exactly how it breaks: the locations our models
reject, the JSON paths the OpenAPI schema rejects, the code our parsers answer
with, and (where the breakage is only wrong values) that the sample becomes valid
once those values are repaired. A sample that changes, appears or disappears
makes these tests fail.
"""

import copy
import json
import os
from unittest import mock

from pydantic import ValidationError

from odoo.addons.spp_dci.dci import codes, spec
from odoo.addons.spp_dci.dci.errors import DCIError, clean_loc
from odoo.addons.spp_dci.dci.schemas import (
    ENDPOINTS,
    parse_endpoint_reply,
    parse_endpoint_request,
)
from odoo.tests import tagged
from odoo.tests.common import BaseCase

REQUEST = "request"
REPLY = "reply"


def _walk(node, key, found):
    """Collect the ``enum`` of every property called ``key`` (examples skipped)."""
    if isinstance(node, dict):
        value = node.get(key)
        if isinstance(value, dict) and isinstance(value.get("enum"), list):
            found.update(value["enum"])
        for name, child in node.items():
            if name not in ("example", "examples"):
                _walk(child, key, found)
    elif isinstance(node, list):
        for child in node:
            _walk(child, key, found)
    return found


def spec_enum(key, registries=spec.REGISTRIES):
    found = set()
    for registry in registries:
        _walk(spec.load_openapi(registry), key, found)
    return found


def component_enum(name, registries=spec.REGISTRIES):
    found = set()
    for registry in registries:
        schema = spec.load_openapi(registry)["components"]["schemas"].get(name)
        if schema:
            found.update(schema["enum"])
    return found


def jsonld_enum(relative_path):
    with open(spec.spec_dir() / "schemas" / relative_path, encoding="utf-8") as handle:
        graph = json.load(handle)["@graph"]
    members = next(node["owl:oneOf"] for node in graph if "owl:oneOf" in node)
    return {member.split(":", 1)[1] for member in members}


def values(enum_cls):
    return {member.value for member in enum_cls}


@tagged("post_install", "-at_install", "dci_core")
class TestCodesMatchSpec(BaseCase):
    """codes.py holds the spec's values verbatim (unions where bundles differ)."""

    def test_protocol_enums(self):
        # RequestStatus is inlined as UnSubscribeResponse.status (and referenced).
        request_status = spec.load_openapi("social")["components"]["schemas"][
            "UnSubscribeResponse"
        ]["properties"]["status"]["enum"]
        cases = [
            (codes.Action, spec_enum("action")),
            (codes.AckStatus, spec_enum("ack_status")),
            (codes.RequestStatus, set(request_status)),
            (codes.ErrorCode, spec_enum("code") - values(codes.SubscriptionStatus)),
            (codes.MsgHeaderStatusReasonCode, component_enum("MsgHeaderStatusReasonCode")),
            (codes.SearchStatusReasonCode, component_enum("SearchStatusReasonCode")),
            (codes.SubscribeStatusReasonCode, component_enum("SubscribeStatusReasonCode")),
            (
                codes.UnSubscribeStatusReasonCode,
                component_enum("UnSubscribeStatusReasonCode"),
            ),
            (codes.QueryType, spec_enum("query_type") | spec_enum("filter_type")),
            (codes.ResponseEntity, spec_enum("response_entity")),
            (codes.SortOrder, spec_enum("sort_order")),
            (codes.ExpOperator, spec_enum("operator")),
            (codes.ExpCondition, spec_enum("condition")),
            (codes.SubscriptionStatus, component_enum("SubscriptionStatus")),
            (codes.TxnType, spec_enum("txn_type")),
            (codes.TxnAttributeType, spec_enum("attribute_type")),
            (codes.YesNo, spec_enum("enrolled_status") | spec_enum("disabled_status")),
            (codes.RegEventType, spec_enum("reg_event_type")),
        ]
        for enum_cls, expected in cases:
            with self.subTest(enum_cls.__name__):
                self.assertTrue(expected)
                self.assertEqual(values(enum_cls), expected)

    def test_bundle_differences_are_the_documented_ones(self):
        self.assertEqual(
            spec_enum("query_type", ("social", "ibr")),
            values(codes.QueryType) - {"graphql"},
        )
        self.assertEqual(
            spec_enum("txn_type", ("social", "ibr")), {"search", "subscribe", "receipt"}
        )
        self.assertEqual(
            spec_enum("txn_type", ("crvs", "fr")), {"search", "subscribe", "unsubscribe"}
        )
        self.assertEqual(
            spec_enum("attribute_type", ("crvs", "fr"))
            - spec_enum("attribute_type", ("social", "ibr")),
            {"subscription_code_list"},
        )
        self.assertNotIn("/registry/txn/status", spec.load_openapi("dr")["paths"])

    def test_code_lists_outside_the_registry_bundles(self):
        jwks = spec.load_openapi("jwks")
        self.assertEqual(values(codes.JwkUse), _walk(jwks, "use", set()))
        scopes = spec.load_openapi("authz")["components"]["schemas"]["OidcScope"]
        self.assertEqual(values(codes.OidcScope), set(scopes["items"]["enum"]) - {"<etc>"})
        for enum_cls, path in (
            (codes.IdentifierType, "core/v1/code/IdentifierTypeEnum.jsonld"),
            (codes.Sex, "core/v1/code/SexCategoryEnum.jsonld"),
            (codes.MaritalStatus, "core/v1/code/MaritalStatusEnum.jsonld"),
            (codes.VitalEventType, "extensions/crvs/v1/code/VitalEventTypeEnum.jsonld"),
        ):
            with self.subTest(enum_cls.__name__):
                self.assertEqual(values(enum_cls), jsonld_enum(path))

    def test_registry_type_examples(self):
        """reg_type is a free string; codes.RegistryType lists the bundles' examples."""
        text = "".join(
            spec.spec_path(registry).read_text(encoding="utf-8") for registry in spec.REGISTRIES
        )
        for member in codes.RegistryType:
            self.assertIn(f"'{member.value}'", text)

    def test_code_from_value(self):
        self.assertIs(
            codes.code_from_value("err.signature.missing"), codes.ErrorCode.SIGNATURE_MISSING
        )
        self.assertEqual(codes.code_from_value("rjct.timestamp.invalid"), "rjct.timestamp.invalid")
        with self.assertRaises(ValueError):
            codes.code_from_value("rjct.locale.invalid")


@tagged("post_install", "-at_install", "dci_core")
class TestSpecHelpers(BaseCase):
    def test_spec_dir(self):
        with mock.patch.dict(os.environ, {spec.ENV_VAR: "/nonexistent/dci-spec"}):
            with self.assertRaises(spec.SpecNotFoundError) as caught:
                spec.spec_dir()
            self.assertIn("DCI_SPEC_DIR", str(caught.exception))
        with mock.patch.dict(os.environ, {spec.ENV_VAR: ""}):
            self.assertEqual(spec.spec_dir(), spec.DEFAULT_SPEC_DIR)
        self.assertEqual(spec.DEFAULT_SPEC_DIR.name, "dci-spec")
        self.assertTrue((spec.REPO_ROOT / "spp_dci" / "__manifest__.py").is_file())

    def test_load_openapi(self):
        document = spec.load_openapi("social")
        self.assertIs(spec.load_openapi("social"), document)
        self.assertEqual(document["openapi"], "3.0.3")
        self.assertEqual(document["info"]["title"], "Interoperability APIs - Social Registry")
        for name in ("crvs", "ibr", "dr", "fr", "authz", "jwks", "locations"):
            self.assertIn("paths", spec.load_openapi(name))
        with self.assertRaises(spec.SpecNotFoundError):
            spec.load_openapi("openapi/missing.yaml")

    def test_spec_defect_workarounds(self):
        # fr /registry/on-subscribe: the operation sits on the path item itself.
        self.assertIsNone(spec.load_openapi("fr")["paths"]["/registry/on-subscribe"]["post"])
        self.assertEqual(
            spec.operation_pointer("fr", "/registry/on-subscribe"),
            "/paths/~1registry~1on-subscribe",
        )
        errors = spec.request_errors("fr", "/registry/on-subscribe", {"header": {}})
        self.assertIn("$: 'message' is a required property", errors)
        # ibr sync paths: a schema where a response object belongs.
        self.assertEqual(
            spec.response_pointer("ibr", "/registry/sync/enrolled"),
            "/components/schemas/EnrolledResponse",
        )
        self.assertEqual(
            spec.response_pointer("social", "/registry/search", 401),
            "/components/responses/HttpErrorResponse/content/application~1json/schema",
        )
        with self.assertRaises(KeyError):
            spec.request_pointer("dr", "/registry/txn/status")

    def test_validation_errors_are_readable(self):
        body = {"message": {"ack_status": "OK", "timestamp": "yesterday"}}
        with self.assertRaises(spec.SpecValidationError) as caught:
            spec.validate_response("social", "/registry/search", body)
        self.assertIsInstance(caught.exception, AssertionError)
        self.assertEqual(
            caught.exception.errors,
            [
                "$.message: 'correlation_id' is a required property",
                "$.message.ack_status: 'OK' is not one of ['ACK', 'NACK', 'ERR']",
                "$.message.timestamp: 'yesterday' is not a 'date-time'",
            ],
        )
        self.assertIn("social POST /registry/search 200 response", str(caught.exception))
        spec.validate_schema("social", "SubscriptionStatus", "subscribe")
        with self.assertRaises(spec.SpecValidationError):
            spec.validate_schema("social", "SubscriptionCode", "x" * 100)
        # oneOf failures name the closest branch, not the whole instance
        integer_value = {
            "transaction_id": "t",
            "search_request": [
                {
                    "reference_id": "r",
                    "timestamp": "2024-01-01T00:00:00Z",
                    "search_criteria": {
                        "query_type": "predicate",
                        "query": [
                            {
                                "expression1": {
                                    "attribute_name": "age",
                                    "operator": "gt",
                                    "attribute_value": 5,
                                }
                            }
                        ],
                    },
                }
            ],
        }
        # AttributeValue's oneOf lists integer and number: a JSON integer matches
        # both, so the spec rejects every integer value (upstream defect).
        self.assertEqual(
            spec.schema_errors("social", "SearchRequest", integer_value),
            [
                "$.search_request[0].search_criteria.query: no anyOf branch matches; "
                "closest: $.search_request[0].search_criteria.query[0].expression1."
                "attribute_value: 5 is valid under each of {'type': 'number'}, "
                "{'type': 'integer'}"
            ],
        )

    def test_sample_files(self):
        samples = list(spec.sample_files())
        self.assertEqual(len(samples), 58)
        by_name = {sample.name: sample for sample in samples}
        first = by_name["social/processflow1-1req.json"]
        self.assertEqual(first.process_flow_id, "processflow1-1")
        self.assertEqual(first.process_flow_name, "Process Flow 1 : Search by Poverty Score")
        self.assertEqual(first.kind, "req")
        self.assertEqual(first.data["header"]["action"], "search")
        copied = by_name["crvs/processflow1res copy.json"]
        self.assertEqual((copied.process_flow_id, copied.kind), ("processflow1", "res"))
        # usecaselist.json does not name every flow that has samples
        self.assertIsNone(by_name["ibr/processflow3req.json"].process_flow_name)


# --- the samples ----------------------------------------------------------------

# Breakage shared by most search requests: the template the samples were made from.
SEARCH_REQUEST = frozenset(
    {
        "header.meta",
        "header.sender_uri",
        "header.total_count",
        "message.transaction_id",
        "message.search_request.0.reference_id",
        "message.search_request.0.locale",
        "message.search_request.0.search_criteria.consent",
        "message.search_request.0.search_criteria.authorize",
    }
)
SEARCH_REQUEST_WHY = (
    'header.total_count is the string "1"; header.meta, header.sender_uri, consent '
    'and authorize are "" instead of an object/URI; locale is "" or "EN/GB", not '
    "ISO 639-3; transaction_id and reference_id are empty (spec-valid, rejected by "
    "our non-empty rule)"
)
SEARCH_REQUEST_SPEC = frozenset(
    {"$.header.meta", "$.header.sender_uri", "$.header.total_count", "$.message"}
)
RESPONSE_ENTITY = "message.search_request.0.search_criteria.response_entity"
PREDICATE_AS_EXPRESSION = SEARCH_REQUEST | {
    "message.search_request.0.search_criteria.query.0.seq_num",
    "message.search_request.0.search_criteria.query.0.condition",
    "message.search_request.0.search_criteria.query.0.expression2",
}
PREDICATE_LIST_WHY = (
    '; query_type is "expression" but the query is a predicate list (the '
    "spec's anyOf accepts it, our query_type/query check does not)"
)
PREDICATE_AS_EXPRESSION_WHY = (
    SEARCH_REQUEST_WHY
    + '; the predicate has seq_num, condition and expression2 set to ""'
    + PREDICATE_LIST_WHY
)
QUERY_SHAPE = frozenset({"message.search_request.0.search_criteria"})

CALLBACK_HEADER = frozenset(
    {
        "header.action",
        "header.completed_count",
        "header.meta",
        "header.status_reason_code",
        "header.total_count",
    }
)
CALLBACK_HEADER_SPEC = frozenset("$." + loc for loc in CALLBACK_HEADER) | {"$.message"}
ON_SEARCH = CALLBACK_HEADER | {
    "message.transaction_id",
    "message.correlation_id",
    "message.search_response.0.reference_id",
    "message.search_response.0.status_reason_code",
    "message.search_response.0.pagination.total_count",
    "message.search_response.0.locale",
}
ON_SEARCH_WHY = (
    'header.action is "search", not "on-search"; total_count and completed_count '
    "are strings; meta, status_reason_code (header and item), pagination.total_count "
    'and locale are ""; transaction_id, correlation_id and reference_id are empty'
)
SOCIAL_ON_SEARCH = CALLBACK_HEADER | {
    "message.search_response.0.timestamp",
    "message.search_response.0.pagination",
    "message.search_response.0.locale",
}
SOCIAL_ON_SEARCH_WHY = (
    'header.action is "search"; counts are strings; meta and status_reason_code '
    'are ""; the item has timestamp, pagination and locale set to null (no field of '
    "the spec is nullable)"
)
PLACEHOLDER = frozenset({"header", "message"})
PLACEHOLDER_WHY = 'empty placeholder {"headers": "", "message": ""}'
PLACEHOLDER_SPEC = frozenset({"$", "$.message"})
DR_SEARCH = frozenset(
    {
        "header.action",
        "header.meta",
        "header.sender_uri",
        "header.total_count",
        "message.search_request",
    }
)
DR_SEARCH_WHY = (
    'action "verify"; meta and sender_uri are ""; total_count is a string; '
    'search_request is an object, not an array (with timestamp "" and empty '
    "pagination inside)"
)
DR_ON_SEARCH = frozenset(
    {
        "header.action",
        "header.completed_count",
        "header.meta",
        "header.status",
        "header.status_reason_code",
        "header.total_count",
        "message.correlation_id",
        "message.search_response",
    }
)
DR_ON_SEARCH_WHY = (
    'action "check_disability_status", status "ack", status_reason_code "200", '
    'counts as strings, meta ""; the SearchResponse is nested in message.message'
)
SUBSCRIBE_WHY = (
    'locale "en" is not ISO 639-3; frequency has no end_time (required); the dr '
    "spec also restricts reg_event_type to REGISTER"
)
SUBSCRIBE = frozenset(
    {
        "message.subscribe_request.0.locale",
        "message.subscribe_request.0.subscribe_criteria.frequency.end_time",
    }
)
ACK_WHY = (
    'an ACK with error {"code": "", "message": ""} (code not in the Error enum); the '
    "header wrapped around it is ignored"
)


def sample(target, path, model, spec_paths, code, why, repaired=None):
    """``repaired``: model errors left once the values are repaired (None: not repairable)."""
    return {
        "target": target,
        "path": path,
        "model": frozenset(model),
        "spec": frozenset(spec_paths),
        "code": code,
        "why": why,
        "repaired": repaired,
    }


def search_request_sample(model=SEARCH_REQUEST, why=SEARCH_REQUEST_WHY, repaired=frozenset()):
    return sample(
        REQUEST,
        "/registry/search",
        model,
        SEARCH_REQUEST_SPEC,
        "err.sender_uri.invalid",
        why,
        repaired,
    )


def on_search_sample(model=ON_SEARCH, why=ON_SEARCH_WHY):
    return sample(
        REQUEST,
        "/registry/on-search",
        model,
        CALLBACK_HEADER_SPEC,
        "rjct.action.invalid",
        why,
        frozenset(),
    )


def placeholder_sample(kind):
    path = "/registry/search" if kind == "req" else "/registry/on-search"
    return sample(REQUEST, path, PLACEHOLDER, PLACEHOLDER_SPEC, "err.request.bad", PLACEHOLDER_WHY)


def predicate_sample():
    return search_request_sample(PREDICATE_AS_EXPRESSION, PREDICATE_AS_EXPRESSION_WHY, QUERY_SHAPE)


SAMPLES = {
    "social/processflow1-1req.json": search_request_sample(),
    "social/processflow1-1res.json": on_search_sample(SOCIAL_ON_SEARCH, SOCIAL_ON_SEARCH_WHY),
    "social/processflow1-2req.json": search_request_sample(
        SEARCH_REQUEST | {RESPONSE_ENTITY},
        SEARCH_REQUEST_WHY + '; response_entity "Household" is not Group/Member',
    ),
    "social/processflow1-2res.json": on_search_sample(SOCIAL_ON_SEARCH, SOCIAL_ON_SEARCH_WHY),
    "social/processflow1-3req.json": search_request_sample(
        SEARCH_REQUEST | {RESPONSE_ENTITY},
        SEARCH_REQUEST_WHY + '; response_entity "member" is not Group/Member',
    ),
    "social/processflow1-3res.json": on_search_sample(SOCIAL_ON_SEARCH, SOCIAL_ON_SEARCH_WHY),
    "social/processflow2req.json": predicate_sample(),
    "social/processflow2res.json": on_search_sample(),
    "social/processflow3areq.json": search_request_sample(
        repaired=QUERY_SHAPE, why=SEARCH_REQUEST_WHY + PREDICATE_LIST_WHY
    ),
    "social/processflow3ares.json": on_search_sample(),
    "social/processflow4req.json": search_request_sample(
        repaired=QUERY_SHAPE, why=SEARCH_REQUEST_WHY + PREDICATE_LIST_WHY
    ),
    "social/processflow4res.json": on_search_sample(),
    "crvs/processflow1req copy.json": sample(
        REQUEST,
        "/registry/search",
        {"header.total_count", "message.search_request"},
        {"$.header.total_count", "$.message"},
        "rjct.total_count.invalid",
        "pre-1.0 layout: search_request is an object holding a data list, with "
        'registry_type, an identifier query, filter and sort_order "ASC"; '
        "total_count is a string",
    ),
    "crvs/processflow1req.json": search_request_sample(),
    "crvs/processflow1res copy.json": sample(
        REQUEST,
        "/registry/on-search",
        {
            "header.action",
            "header.status",
            "header.total_count",
            "message.transaction_id",
            "message.correlation_id",
            "message.search_response",
        },
        {"$.header", "$.header.action", "$.header.total_count", "$.message"},
        "rjct.action.invalid",
        "a pre-1.0 search request relabelled as response: action search, no "
        "status, person results under search_request instead of search_response",
    ),
    "crvs/processflow1res.json": on_search_sample(),
    "crvs/processflow2req.json": predicate_sample(),
    "crvs/processflow2res.json": on_search_sample(),
    "crvs/processflow3req.json": search_request_sample(),
    "crvs/processflow3res.json": on_search_sample(),
    "crvs/processflow4req.json": predicate_sample(),
    "crvs/processflow4res.json": on_search_sample(),
    "crvs/processflow5req.json": search_request_sample(),
    "crvs/processflow5res.json": on_search_sample(),
    "crvs/processflow6req.json": predicate_sample(),
    "crvs/processflow6res.json": on_search_sample(),
    "ibr/processflow1req.json": sample(
        REQUEST,
        "/registry/sync/enrollment/updates",
        {
            "header.action",
            "header.meta",
            "header.status",
            "header.total_count",
            "message.transaction_id",
            "message.enrolled_updates",
        },
        {"$.header", "$.header.action", "$.header.meta", "$.header.total_count", "$.message"},
        "rjct.action.not_supported",
        'pre-1.0 receipt flow: action "register" with a request header (no status) '
        "and receipt_information instead of enrolled_updates",
    ),
    "ibr/processflow1res.json": sample(
        REPLY,
        "/registry/sync/enrollment/updates",
        {"transaction_id", "correlation_id", "enrolled_response"},
        {"$"},
        "err.request.bad",
        "an ACK nested in an envelope (message.message.ack_status) where the ibr "
        "spec answers with a bare EnrollmentUpdatesResponse",
    ),
    "ibr/processflow2req.json": sample(
        REQUEST,
        "/registry/sync/enrolled",
        {
            "header.meta",
            "header.sender_uri",
            "header.total_count",
            "message.transaction_id",
            "message.enrolled_criteria.response_entity",
        },
        SEARCH_REQUEST_SPEC,
        "err.sender_uri.invalid",
        'header as in the search template; response_entity "Beneficiary" is not Group/Member',
        frozenset(),
    ),
    "ibr/processflow2res.json": sample(
        REPLY,
        "/registry/sync/enrolled",
        {"transaction_id", "correlation_id", "enrolled_response"},
        {"$"},
        "err.request.bad",
        "an on-search envelope with search_response where the ibr spec answers "
        "with a bare EnrolledResponse",
    ),
    "ibr/processflow3areq.json": search_request_sample(),
    "ibr/processflow3ares.json": on_search_sample(),
    "ibr/processflow3breq.json": placeholder_sample("req"),
    "ibr/processflow3bres.json": placeholder_sample("res"),
    "ibr/processflow3creq.json": placeholder_sample("req"),
    "ibr/processflow3cres.json": placeholder_sample("res"),
    "ibr/processflow3dreq.json": placeholder_sample("req"),
    "ibr/processflow3dres.json": placeholder_sample("res"),
    "ibr/processflow3req.json": placeholder_sample("req"),
    "ibr/processflow3res.json": placeholder_sample("res"),
    "ibr/processflow4req.json": search_request_sample(),
    "ibr/processflow4res.json": on_search_sample(),
    "ibr/processflow5req.json": placeholder_sample("req"),
    "ibr/processflow5res.json": placeholder_sample("res"),
    "dr/processflow1req.json": sample(
        REQUEST,
        "/registry/search",
        DR_SEARCH,
        {"$." + loc for loc in DR_SEARCH - {"message.search_request"}} | {"$.message"},
        "rjct.action.not_supported",
        DR_SEARCH_WHY,
    ),
    "dr/processflow1res.json": sample(
        REQUEST,
        "/registry/on-search",
        DR_ON_SEARCH,
        {"$." + loc for loc in DR_ON_SEARCH if loc.startswith("header")} | {"$.message"},
        "rjct.action.not_supported",
        DR_ON_SEARCH_WHY,
    ),
    "dr/processflow2req.json": sample(
        REQUEST,
        "/registry/sync/disabled",
        {"header.action", "header.meta", "header.total_count"},
        {"$.header.action", "$.header.meta", "$.header.total_count"},
        "rjct.action.not_supported",
        'action "get_disability_info" instead of "search"; meta ""; total_count is a string',
        frozenset(),
    ),
    "dr/processflow2res.json": sample(
        REPLY,
        "/registry/sync/disabled",
        {
            "header.action",
            "header.completed_count",
            "header.meta",
            "header.status",
            "header.status_reason_code",
            "header.total_count",
            "message.correlation_id",
            "message.disabled_response.0.timestamp",
        },
        {
            "$.header.action",
            "$.header.completed_count",
            "$.header.meta",
            "$.header.status",
            "$.header.status_reason_code",
            "$.header.total_count",
            "$.message",
        },
        "rjct.action.not_supported",
        'action "get_disability_info", status "success", status_reason_code "200", '
        'counts as strings; no correlation_id; item timestamp ""',
    ),
    "dr/processflow3req.json": search_request_sample(
        SEARCH_REQUEST | {RESPONSE_ENTITY},
        SEARCH_REQUEST_WHY + '; response_entity "DRPerson" is not Group/Member (the '
        "dr spec does not define response_entity; we apply the social enum)",
    ),
    "dr/processflow3res.json": sample(
        REQUEST,
        "/registry/on-search",
        {
            "header.action",
            "header.status",
            "header.status_reason_code",
            "header.total_count",
            "message.transaction_id",
            "message.correlation_id",
            "message.search_response",
        },
        {
            "$.header.action",
            "$.header.status",
            "$.header.status_reason_code",
            "$.header.total_count",
            "$.message",
        },
        "rjct.action.invalid",
        'action "search", status "success", status_reason_code "200", total_count '
        "a string; records under message.results instead of a SearchResponse",
    ),
    "dr/processflow4req.json": sample(
        REQUEST,
        "/registry/subscribe",
        SUBSCRIBE,
        {"$.message"},
        "rjct.notify_details.invalid",
        SUBSCRIBE_WHY,
    ),
    "dr/processflow4res.json": sample(
        REPLY,
        "/registry/subscribe",
        {"message.error.code"},
        {"$.message.error.code"},
        "err.request.bad",
        ACK_WHY,
    ),
    "fr/processflow1req.json": sample(
        REQUEST,
        "/registry/search",
        DR_SEARCH,
        {"$." + loc for loc in DR_SEARCH - {"message.search_request"}} | {"$.message"},
        "rjct.action.not_supported",
        DR_SEARCH_WHY + " (a copy of the dr sample)",
    ),
    "fr/processflow1res.json": sample(
        REQUEST,
        "/registry/on-search",
        DR_ON_SEARCH,
        {"$." + loc for loc in DR_ON_SEARCH if loc.startswith("header")} | {"$.message"},
        "rjct.action.not_supported",
        DR_ON_SEARCH_WHY + " (a copy of the dr sample)",
    ),
    "fr/processflow2req.json": sample(
        REQUEST,
        "/registry/search",
        DR_SEARCH,
        {"$." + loc for loc in DR_SEARCH - {"message.search_request"}} | {"$.message"},
        "rjct.action.not_supported",
        DR_SEARCH_WHY + " (a copy of the dr sample)",
    ),
    "fr/processflow2res.json": sample(
        REQUEST,
        "/registry/on-search",
        DR_ON_SEARCH,
        {"$." + loc for loc in DR_ON_SEARCH if loc.startswith("header")} | {"$.message"},
        "rjct.action.not_supported",
        DR_ON_SEARCH_WHY + " (a copy of the dr sample)",
    ),
    "fr/processflow3req.json": sample(
        REQUEST,
        "/registry/subscribe",
        SUBSCRIBE,
        {"$.message"},
        "rjct.notify_details.invalid",
        SUBSCRIBE_WHY,
    ),
    "fr/processflow3res.json": sample(
        REPLY,
        "/registry/subscribe",
        {"message.error.code"},
        {"$.message.error.code"},
        "err.request.bad",
        ACK_WHY,
    ),
}


def _model(target, path):
    endpoint = ENDPOINTS[path]
    if target == REQUEST:
        return endpoint.request_envelope, endpoint.action
    return endpoint.reply_model, endpoint.reply_action


def model_breakage(target, path, data):
    """Dotted locations our models reject, plus ``header.action`` on a mismatch."""
    model, action = _model(target, path)
    found = set()
    header = data.get("header") if isinstance(data, dict) else None
    if action and isinstance(header, dict) and header.get("action") != action:
        found.add("header.action")
    try:
        model.from_json(data)
    except ValidationError as exc:
        for error in exc.errors():
            found.add(".".join(str(part) for part in clean_loc(error["loc"])))
    return found


def spec_breakage(registry, target, path, data):
    if target == REQUEST:
        errors = spec.request_errors(registry, path, data)
    else:
        errors = spec.response_errors(registry, path, data)
    return {error.split(": ", 1)[0] for error in errors}


# Value repairs: only wrong values are fixed, never missing or misplaced structure.
_DROPPED = {
    "meta",
    "sender_uri",
    "consent",
    "authorize",
    "status_reason_code",
    "locale",
    "response_entity",
    "seq_num",
    "condition",
    "expression2",
    "completed_count",
    "pagination",
}
_FILLED = {
    "transaction_id": "sample-txn",
    "correlation_id": "sample-cor",
    "reference_id": "sample-ref",
    "timestamp": "2022-12-04T17:20:07-04:00",
}


def repair(target, path, data, breakage):
    data = copy.deepcopy(data)
    _, action = _model(target, path)
    for location in sorted(breakage):
        *parents, leaf = [int(p) if p.isdigit() else p for p in location.split(".")]
        node = data
        for part in parents:
            node = node[part]
        if location == "header.action":
            node[leaf] = action.value
        elif leaf == "total_count":
            node[leaf] = int(node[leaf]) if node[leaf].isdigit() else 0
        elif leaf in _DROPPED:
            del node[leaf]
        elif leaf in _FILLED:
            node[leaf] = _FILLED[leaf]
        else:
            raise AssertionError(f"no repair for {location}")
    return data


@tagged("post_install", "-at_install", "dci_core")
class TestSamples(BaseCase):
    def test_every_sample_is_listed(self):
        self.assertEqual({s.name for s in spec.sample_files()}, set(SAMPLES))

    def test_samples_break_exactly_as_recorded(self):
        for sample_file in spec.sample_files():
            expected = SAMPLES[sample_file.name]
            target, path = expected["target"], expected["path"]
            registry, data = sample_file.registry, sample_file.data
            with self.subTest(sample_file.name, why=expected["why"]):
                self.assertIn(registry, ENDPOINTS[path].registries)
                self.assertEqual(model_breakage(target, path, data), expected["model"])
                self.assertEqual(spec_breakage(registry, target, path, data), expected["spec"])
                parse = parse_endpoint_request if target == REQUEST else parse_endpoint_reply
                with self.assertRaises(DCIError) as caught:
                    parse(path, copy.deepcopy(data))
                self.assertEqual(caught.exception.code, expected["code"])

    def test_repaired_samples_are_valid(self):
        """Samples broken only by wrong values parse once the values are fixed."""
        repaired = 0
        for sample_file in spec.sample_files():
            expected = SAMPLES[sample_file.name]
            if expected["repaired"] is None:
                continue
            target, path = expected["target"], expected["path"]
            with self.subTest(sample_file.name):
                data = repair(target, path, sample_file.data, expected["model"])
                self.assertEqual(spec_breakage(sample_file.registry, target, path, data), set())
                self.assertEqual(model_breakage(target, path, data), expected["repaired"])
                if not expected["repaired"]:
                    parse = parse_endpoint_request if target == REQUEST else parse_endpoint_reply
                    parsed = parse(path, data)
                    self.assertEqual(parsed.to_json()["header"]["action"], data["header"]["action"])
                repaired += 1
        self.assertEqual(repaired, 31)  # 25 fully valid, 6 left with QUERY_SHAPE
