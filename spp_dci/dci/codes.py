"""DCI 1.0.0 enumerations, with values taken verbatim from the spec files.

Sources: the registry bundles in ``dci-spec/openapi/`` (social, crvs, ibr, dr, fr),
the modular schemas in ``spdci-standards/src/common/schema/``, the authz/jwks core
specs and the JSON-LD code lists in ``schemas/core/v1/code/``.

Where the bundles disagree, the enum is the union of the values and the docstring
says which bundle defines which value:

- ``QueryType.GRAPHQL``: in ``filter_type`` of every bundle and in ``query_type``
  of crvs/dr/fr, but not in the social/ibr ``query_type``.
- ``TxnType``: social/ibr list ``receipt``, crvs/fr list ``unsubscribe``; dr has no
  txn/status endpoints at all (upstream spdci/api-standards#49).
- ``TxnAttributeType.SUBSCRIPTION_CODE_LIST``: crvs/fr only.
- ``RegEventType``: ``NotifyEventRequest`` enumerates it per bundle (social:
  REGISTER/NewHouseHoldMember, ibr: enrollement/enrollement_status_change [sic],
  dr/fr: REGISTER, crvs: free string); everywhere else it is a free string.
- There is no status-reason-code list for txn/status in any registry bundle.
- The JWE ``alg``/``enc`` of ``EncryptedMessage.header`` are free strings: the spec
  enumerates no encryption algorithm, so there is no enum for them here.
"""

from enum import StrEnum


class Action(StrEnum):
    """``header.action`` values, one per registry endpoint (path enums in the bundles)."""

    SEARCH = "search"
    ON_SEARCH = "on-search"
    SUBSCRIBE = "subscribe"
    ON_SUBSCRIBE = "on-subscribe"
    UNSUBSCRIBE = "unsubscribe"
    ON_UNSUBSCRIBE = "on-unsubscribe"
    NOTIFY = "notify"
    TXN_STATUS = "txn-status"
    TXN_ON_STATUS = "txn-on-status"


class AckStatus(StrEnum):
    """``Response.message.ack_status`` (common/schema/Ack.yaml)."""

    ACK = "ACK"
    NACK = "NACK"
    ERR = "ERR"


class RequestStatus(StrEnum):
    """Request/message status (common/schema/RequestStatus.yaml)."""

    RCVD = "rcvd"
    PDNG = "pdng"
    SUCC = "succ"
    RJCT = "rjct"


class QueryType(StrEnum):
    """``search_criteria.query_type`` and ``subscribe_criteria.filter_type``.

    ``graphql`` is only allowed by the crvs/dr/fr ``query_type`` and by every
    ``filter_type``; the social/ibr ``query_type`` stop at ``predicate``.
    """

    IDTYPE_VALUE = "idtype-value"
    EXPRESSION = "expression"
    PREDICATE = "predicate"
    GRAPHQL = "graphql"


class ResponseEntity(StrEnum):
    """``search_criteria.response_entity`` (social) / ``enrolled_criteria`` (ibr)."""

    GROUP = "Group"
    MEMBER = "Member"


class SortOrder(StrEnum):
    """``sort[].sort_order``."""

    ASC = "asc"
    DESC = "desc"


class ExpOperator(StrEnum):
    """Predicate ``expression1/2.operator`` (common/schema/ExpOperator.yaml)."""

    GT = "gt"
    LT = "lt"
    EQ = "eq"
    GE = "ge"
    LE = "le"
    IN = "in"


class ExpCondition(StrEnum):
    """Predicate ``condition`` (common/schema/ExpCondition.yaml)."""

    AND = "and"
    OR = "or"
    NOT = "not"


class ExpressionOperator(StrEnum):
    """Operators of the ``$``-style expression syntax used in the spec examples.

    The spec types ``query.value`` as a free object; its examples use
    ``{"$and": [{"attr": {"$lt": 5}}]}``. The spec examples use ``$and``, ``$eq``,
    ``$lt`` and ``$gt``; the other operators are ``ExpOperator`` and
    ``ExpCondition`` written the same way.
    """

    AND = "$and"
    OR = "$or"
    NOT = "$not"
    EQ = "$eq"
    LT = "$lt"
    GT = "$gt"
    LE = "$le"
    GE = "$ge"
    IN = "$in"


class SubscriptionStatus(StrEnum):
    """``SubscriptionInfo.status`` / ``subscription_status[].status``."""

    SUBSCRIBE = "subscribe"
    UNSUBSCRIBE = "unsubscribe"


class TxnType(StrEnum):
    """``txnstatus_request.txn_type``: union of social/ibr and crvs/fr."""

    SEARCH = "search"
    SUBSCRIBE = "subscribe"
    UNSUBSCRIBE = "unsubscribe"  # crvs, fr
    RECEIPT = "receipt"  # social, ibr


class TxnAttributeType(StrEnum):
    """``txnstatus_request.attribute_type``."""

    TRANSACTION_ID = "transaction_id"
    REFERENCE_ID_LIST = "reference_id_list"
    CORRELATION_ID = "correlation_id"
    SUBSCRIPTION_CODE_LIST = "subscription_code_list"  # crvs, fr


class YesNo(StrEnum):
    """``enrolled_status`` (ibr) and ``disabled_status`` (dr)."""

    YES = "yes"
    NO = "no"


class RegEventType(StrEnum):
    """``NotifyEventRequest.notify_event[].data.reg_event_type`` per bundle."""

    REGISTER = "REGISTER"  # social, dr, fr
    NEW_HOUSEHOLD_MEMBER = "NewHouseHoldMember"  # social
    ENROLLMENT = "enrollement"  # ibr (sic)
    ENROLLMENT_STATUS_CHANGE = "enrollement_status_change"  # ibr (sic)


class RegistryType(StrEnum):
    """``reg_type`` example values (the spec types ``reg_type`` as a free string)."""

    SOCIAL = "ns:org:RegistryType:Social"
    CIVIL = "ns:org:RegistryType:Civil"
    IBR = "ns:org:RegistryType:IBR"
    DR = "ns:org:RegistryType:DR"
    FR = "ns:org:RegistryType:FR"


class VitalEventType(StrEnum):
    """CRVS vital events (extensions/crvs/v1/code/VitalEventTypeEnum.jsonld)."""

    LIVE_BIRTH = "live_birth"
    DEATH = "death"
    FETAL_DEATH = "fetal_death"
    MARRIAGE = "marriage"
    DIVORCE = "divorce"
    ADOPTION = "adoption"


class IdentifierType(StrEnum):
    """core/v1/code/IdentifierTypeEnum.jsonld."""

    UIN = "UIN"
    BRN = "BRN"
    MRN = "MRN"
    DRN = "DRN"


class Sex(StrEnum):
    """core/v1/code/SexCategoryEnum.jsonld."""

    MALE = "male"
    FEMALE = "female"
    OTHER = "other"
    UNKNOWN = "unknown"


class MaritalStatus(StrEnum):
    """core/v1/code/MaritalStatusEnum.jsonld."""

    NEVER_MARRIED = "S"
    MARRIED = "M"
    WIDOW = "W"
    ANNULLED = "A"
    DIVORCED = "D"
    LEGALLY_SEPARATED = "L"
    UNMARRIED = "U"


class JwkUse(StrEnum):
    """``JWK.use`` (jwks_core_api_v1.0.0.yaml)."""

    SIG = "sig"
    ENC = "enc"


class OidcScope(StrEnum):
    """``OidcScope`` of authz_core_api_v1.0.0.yaml; the spec's list ends in ``<etc>``."""

    DISBURSE_DISBURSE = "disburse.disburse"
    DISBURSE_ON_DISBURSE = "disburse.on-disburse"
    DISBURSE_STATUS = "disburse.status"
    DISBURSE_ON_STATUS = "disburse.on-status"
    MAPPER_LINK = "mapper.link"
    MAPPER_UNLINK = "mapper.unlink"
    MAPPER_UPDATE = "mapper.update"
    MAPPER_ON_UPDATE = "mapper.on-update"
    MAPPER_RESOLVE = "mapper.resolve"
    MAPPER_ON_RESOLVE = "mapper.on-resolve"
    MAPPER_STATUS = "mapper.status"
    MAPPER_ON_STATUS = "mapper.on-status"
    REGISTRY_SEARCH = "registry.search"
    REGISTRY_ON_SEARCH = "registry.on-search"
    REGISTRY_SUBSCRIBE = "registry.subscribe"
    REGISTRY_ON_SUBSCRIBE = "registry.on-subscribe"
    REGISTRY_NOTIFY = "registry.notify"


# --- error and status reason codes -------------------------------------------


class ErrorCode(StrEnum):
    """``Error.code``: the only codes allowed in an ACK ``error`` object."""

    REQUEST_BAD = "err.request.bad"
    REQUEST_UNAUTHORIZED = "err.request.unauthorized"
    REQUEST_FORBIDDEN = "err.request.forbidden"
    REQUEST_NOT_FOUND = "err.request.not_found"
    REQUEST_TIMEOUT = "err.request.timeout"
    VERSION_NOT_SUPPORTED = "err.version.not_supported"
    REQUEST_TOO_MANY_REQUESTS = "err.request.too_many_requests"
    SENDER_ID_INVALID = "err.sender_id.invalid"
    SENDER_URI_INVALID = "err.sender_uri.invalid"
    RECEIVER_ID_INVALID = "err.receiver_id.invalid"
    SIGNATURE_MISSING = "err.signature.missing"
    SIGNATURE_INVALID = "err.signature.invalid"
    ENCRYPTION_INVALID = "err.encryption.invalid"
    SERVICE_UNAVAILABLE = "err.service.unavailable"


class MsgHeaderStatusReasonCode(StrEnum):
    """``MsgCallbackHeader.status_reason_code``."""

    VERSION_INVALID = "rjct.version.invalid"
    MESSAGE_ID_DUPLICATE = "rjct.message_id.duplicate"
    MESSAGE_TS_INVALID = "rjct.message_ts.invalid"
    ACTION_INVALID = "rjct.action.invalid"
    ACTION_NOT_SUPPORTED = "rjct.action.not_supported"
    TOTAL_COUNT_INVALID = "rjct.total_count.invalid"
    TOTAL_COUNT_LIMIT_EXCEEDED = "rjct.total_count.limit_exceeded"
    ERRORS_TOO_MANY = "rjct.errors.too_many"


class SearchStatusReasonCode(StrEnum):
    """``search_response[].status_reason_code``."""

    REFERENCE_ID_INVALID = "rjct.reference_id.invalid"
    REFERENCE_ID_DUPLICATE = "rjct.reference_id.duplicate"
    TIMESTAMP_INVALID = "rjct.timestamp.invalid"
    SEARCH_CRITERIA_INVALID = "rjct.search_criteria.invalid"
    FILTER_INVALID = "rjct.filter.invalid"
    SORT_INVALID = "rjct.sort.invalid"
    PAGINATION_INVALID = "rjct.pagination.invalid"
    SEARCH_TOO_MANY_RECORDS_FOUND = "rjct.search.too_many_records_found"


class SubscribeStatusReasonCode(StrEnum):
    """``subscribe_response[].status_reason_code``."""

    REFERENCE_ID_INVALID = "rjct.reference_id.invalid"
    REFERENCE_ID_DUPLICATE = "rjct.reference_id.duplicate"
    TIMESTAMP_INVALID = "rjct.timestamp.invalid"
    NOTIFY_TYPES_INVALID = "rjct.notify_types.invalid"
    NOTIFY_DETAILS_INVALID = "rjct.notify_details.invalid"
    PERSON_ID_INVALID = "rjct.person_id.invalid"
    EVENT_ALREADY_SUBSCRIBED = "rjct.event.already_subscribed"


class UnSubscribeStatusReasonCode(StrEnum):
    """``UnSubscribeResponse.status_reason_code``."""

    REFERENCE_ID_INVALID = "rjct.reference_id.invalid"
    REFERENCE_ID_DUPLICATE = "rjct.reference_id.duplicate"
    TIMESTAMP_INVALID = "rjct.timestamp.invalid"
    SUBSCRIPTION_CODE_INVALID = "rjct.subscription_code.invalid"
    REQUESTER_INVALID = "rjct.requester.invalid"
    EVENT_ALREADY_UNSUBSCRIBED = "rjct.event.already_unsubscribed"


#: Every code enum that ``errors.DCIError`` accepts.
CODE_ENUMS = (
    ErrorCode,
    MsgHeaderStatusReasonCode,
    SearchStatusReasonCode,
    SubscribeStatusReasonCode,
    UnSubscribeStatusReasonCode,
)


def code_from_value(value):
    """Return the first code enum member whose value is ``value``.

    Reason-code lists share values (e.g. ``rjct.timestamp.invalid`` is in the
    search, subscribe and unsubscribe lists); the first enum in ``CODE_ENUMS``
    wins, which is harmless because members compare equal to their string value.
    """
    for enum_cls in CODE_ENUMS:
        try:
            return enum_cls(value)
        except ValueError:
            continue
    raise ValueError(f"{value!r} is not a DCI 1.0.0 error or status reason code")
