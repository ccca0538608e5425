"""Search messages: /registry/search, /registry/on-search, /registry/sync/search.

Also the query shapes shared with subscribe filters, and the IBR/DR sync search
variants (/registry/sync/enrolled, /registry/sync/disabled,
/registry/sync/get-disability-details, /registry/sync/get-disability-support),
which are modelled loosely: their criteria and records stay plain dicts.
"""

from typing import Annotated, Any

from pydantic import (
    Discriminator,
    Field,
    StrictStr,
    Tag,
    model_validator,
)
from pydantic_core import PydanticCustomError

from ..codes import (
    ExpCondition,
    ExpOperator,
    ExpressionOperator,
    QueryType,
    RequestStatus,
    ResponseEntity,
    SearchStatusReasonCode,
    SortOrder,
    YesNo,
)
from .common import (
    DCI_VERSION,
    AttributeValue,
    CorrelationId,
    DateTime,
    DCIModel,
    JsonLdContainer,
    JsonObject,
    Locale,
    NonEmptyStr,
    Number,
    Pagination,
    PositiveInt32,
    ReferenceId,
    StatusReasonMessage,
    TransactionId,
)

# --- queries ---------------------------------------------------------------------


class IdTypeValueQuery(DCIModel):
    """IdentifierTypeValue, for ``idtype-value``: ``{"type": "UIN", "value": "123"}``."""

    type: NonEmptyStr
    value: AttributeValue


class ExpressionTemplate(DCIModel):
    """The ``expression`` object of the spec examples: ``{collection, query}``."""

    collection: StrictStr | None = None
    query: "ExpressionClause"


class ExpressionQuery(DCIModel):
    """ExpTemplate, for ``expression`` and ``graphql``: ``{"type": ..., "value": {...}}``.

    The spec types ``value`` as a free object ("implementing systems can define
    schemas"), so it is kept as a dict; ``expression()`` reads the syntax that the
    spec examples use.
    """

    type: NonEmptyStr
    value: JsonObject

    def expression(self) -> "ExpressionTemplate | str":
        """``value.expression``: a GraphQL text, or a parsed ``$and``/``$lt`` template."""
        expression = self.value.get("expression")
        if isinstance(expression, str):
            return expression
        return ExpressionTemplate.model_validate(expression)


_COMPARISONS = {
    ExpressionOperator.EQ,
    ExpressionOperator.LT,
    ExpressionOperator.GT,
    ExpressionOperator.LE,
    ExpressionOperator.GE,
    ExpressionOperator.IN,
}


class ExpressionClause(JsonLdContainer):
    """``{"$and": [...], "poverty_score": {"$lt": 5}}``.

    ``$and``/``$or``/``$not`` combine clauses; every other key is an attribute name
    mapped to ``{<comparison>: value}`` (kept as extra fields, see ``conditions``).
    """

    and_: list["ExpressionClause"] | None = Field(None, alias="$and")
    or_: list["ExpressionClause"] | None = Field(None, alias="$or")
    not_: "ExpressionClause | None" = Field(None, alias="$not")

    @model_validator(mode="after")
    def _check_conditions(self):
        for attribute, condition in self.conditions().items():
            if not isinstance(condition, dict) or not condition:
                raise PydanticCustomError(
                    "expression_condition",
                    'Condition of {attribute} should be an object like {{"$eq": value}}',
                    {"attribute": attribute},
                )
            unknown = set(condition) - _COMPARISONS
            if unknown:
                raise PydanticCustomError(
                    "expression_operator",
                    "Unknown operator(s) {operators} for {attribute}",
                    {"operators": sorted(unknown), "attribute": attribute},
                )
        return self

    def conditions(self) -> dict[str, Any]:
        """Attribute conditions, e.g. ``{"poverty_score": {"$lt": 5}}``."""
        return dict(self.model_extra or {})


class Predicate(DCIModel):
    """ExpPredicate: ``{attribute_name, operator, attribute_value}``."""

    attribute_name: NonEmptyStr
    operator: ExpOperator
    attribute_value: AttributeValue


class PredicateWithCondition(DCIModel):
    """ExpPredicateWithCondition, one item of a ``predicate`` query."""

    seq_num: Number | None = None
    expression1: Predicate
    condition: ExpCondition | None = None
    expression2: Predicate | None = None

    @model_validator(mode="after")
    def _condition_joins_expressions(self):
        if self.expression2 is not None and self.condition is None:
            raise PydanticCustomError("predicate_condition", "expression2 needs a condition")
        return self


def _query_shape(value: Any) -> str | None:
    """Pick the query model by shape; ``query_type`` is checked afterwards."""
    if isinstance(value, list):
        return QueryType.PREDICATE.value
    if isinstance(value, ExpressionQuery):
        return QueryType.EXPRESSION.value
    if isinstance(value, IdTypeValueQuery):
        return QueryType.IDTYPE_VALUE.value
    if isinstance(value, dict):
        if isinstance(value.get("value"), dict):
            return QueryType.EXPRESSION.value
        return QueryType.IDTYPE_VALUE.value
    return None


PredicateQuery = Annotated[list[PredicateWithCondition], Field(min_length=1)]

#: ``search_criteria.query`` / ``subscribe_criteria.filter`` (anyOf of the three).
Query = Annotated[
    Annotated[IdTypeValueQuery, Tag(QueryType.IDTYPE_VALUE.value)]
    | Annotated[ExpressionQuery, Tag(QueryType.EXPRESSION.value)]
    | Annotated[PredicateQuery, Tag(QueryType.PREDICATE.value)],
    Discriminator(_query_shape),
]


def check_query_shape(query_type: QueryType, query: Any) -> Any:
    """Check that ``query`` has the shape its ``query_type`` defines; return it.

    An ``idtype-value`` query whose value is an object parses as an
    ``ExpressionQuery`` and is turned back into an ``IdTypeValueQuery``.
    """
    if query_type == QueryType.PREDICATE:
        ok = isinstance(query, list)
    elif query_type == QueryType.IDTYPE_VALUE:
        if isinstance(query, ExpressionQuery):
            query = IdTypeValueQuery(type=query.type, value=query.value)
        ok = isinstance(query, IdTypeValueQuery)
    else:  # expression, graphql: ExpTemplate with an object value
        ok = isinstance(query, ExpressionQuery)
    if not ok:
        raise PydanticCustomError(
            "query_shape",
            "Query does not have the shape of query type {query_type}",
            {"query_type": query_type.value},
        )
    return query


# --- search request ---------------------------------------------------------------


class SearchSort(DCIModel):
    attribute_name: NonEmptyStr
    sort_order: SortOrder | None = None


class PaginationRequest(DCIModel):
    """PaginationRequest.yaml: ``page_size`` required, ``page_number`` defaults to 1."""

    page_size: PositiveInt32
    page_number: PositiveInt32 = 1


class SearchCriteria(DCIModel):
    version: StrictStr = DCI_VERSION
    reg_type: StrictStr | None = None
    # Not a property of search_criteria in the bundles, but named in the endpoint
    # descriptions and used by every sample request.
    reg_event_type: StrictStr | None = None
    reg_record_type: StrictStr | None = None
    query_type: QueryType
    response_entity: ResponseEntity | None = None
    query: Query
    sort: list[SearchSort] | None = None
    pagination: PaginationRequest | None = None
    consent: JsonObject | None = None
    authorize: JsonObject | None = None

    @model_validator(mode="after")
    def _check_query(self):
        self.query = check_query_shape(self.query_type, self.query)
        return self


class SearchRequestItem(DCIModel):
    reference_id: ReferenceId
    timestamp: DateTime
    search_criteria: SearchCriteria
    locale: Locale | None = None


def check_unique_reference_ids(items) -> None:
    seen = set()
    for item in items:
        if item.reference_id in seen:
            raise PydanticCustomError(
                "reference_id_duplicate",
                "reference_id {reference_id} is used twice in the batch",
                {"reference_id": item.reference_id},
            )
        seen.add(item.reference_id)


class SearchRequest(DCIModel):
    """``SearchRequest``: message of action ``search``."""

    transaction_id: TransactionId
    search_request: list[SearchRequestItem] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_reference_ids(self):
        check_unique_reference_ids(self.search_request)
        return self


# --- search response --------------------------------------------------------------


class SearchResponseData(JsonLdContainer):
    """``search_response[].data``: a JSON-LD record container.

    ``reg_records`` is an array in social/crvs/ibr/fr and an object in dr (and in
    the crvs/fr txn-status copy of this schema); both forms are accepted.
    ``reg_record_type`` is required by dr/fr only; always set it when sending.
    """

    version: StrictStr = DCI_VERSION
    reg_type: StrictStr | None = None
    reg_event_type: StrictStr | None = None
    reg_record_type: StrictStr | None = None
    reg_records: list[JsonObject] | JsonObject


class SearchResponseItem(DCIModel):
    reference_id: ReferenceId
    timestamp: DateTime
    status: RequestStatus
    status_reason_code: SearchStatusReasonCode | None = None
    status_reason_message: StatusReasonMessage | None = None
    data: SearchResponseData | None = None
    pagination: Pagination | None = None
    locale: Locale | None = None


class SearchResponse(DCIModel):
    """``SearchResponse``: message of action ``on-search`` (async and sync).

    Response lists may be empty: no spec file sets ``minItems`` on them (a txn
    status answer about a transaction with no result yet has none).
    """

    transaction_id: TransactionId
    correlation_id: CorrelationId
    search_response: list[SearchResponseItem]


# --- IBR: /registry/sync/enrolled ---------------------------------------------------


class EnrolledCriteria(DCIModel):
    query_type: QueryType
    query: JsonObject
    response_entity: ResponseEntity | None = None


class EnrolledRequest(DCIModel):
    """IBR ``EnrolledRequest`` (action ``search``)."""

    transaction_id: TransactionId
    enrolled_criteria: EnrolledCriteria


class EnrolledResponseItem(DCIModel):
    reference_id: ReferenceId
    timestamp: DateTime
    status: RequestStatus
    status_reason_message: StatusReasonMessage | None = None
    enrolled_status: YesNo


class EnrolledResponse(DCIModel):
    """IBR ``EnrolledResponse``."""

    transaction_id: TransactionId
    correlation_id: CorrelationId
    enrolled_response: list[EnrolledResponseItem]


# --- DR: /registry/sync/disabled, get-disability-details/-support -------------------


class DisabledCriteria(DCIModel):
    query_type: QueryType
    query: JsonObject


class DisabledRequest(DCIModel):
    """DR ``DisabledRequest`` (action ``search``)."""

    transaction_id: TransactionId
    disabled_criteria: DisabledCriteria


class GetDisabilitySupportRequest(DisabledRequest):
    """DR ``GetDisabilitySupportRequest``: same shape as ``DisabledRequest``."""


class DisabledResponseItem(DCIModel):
    reference_id: ReferenceId
    timestamp: DateTime
    status: RequestStatus
    status_reason_message: StatusReasonMessage | None = None
    disabled_status: YesNo


class DisabledResponse(DCIModel):
    """DR ``DisabledResponse``."""

    transaction_id: TransactionId
    correlation_id: CorrelationId
    disabled_response: list[DisabledResponseItem]


class DisabilityRecords(JsonLdContainer):
    version: StrictStr = DCI_VERSION
    # Items are objects for get-disability-details, arrays for -support.
    reg_records: list[Any]


class DisabilitySearchResponseItem(SearchResponseItem):
    data: DisabilityRecords | None = None


class GetDisabilityInfoResponse(DCIModel):
    """DR ``GetDisabilityInfoResponse`` (/registry/sync/get-disability-details)."""

    transaction_id: TransactionId
    correlation_id: CorrelationId
    search_response: list[DisabilitySearchResponseItem]


class GetDisabilitySupportResponse(GetDisabilityInfoResponse):
    """DR ``GetDisabilitySupportResponse`` (/registry/sync/get-disability-support)."""


ExpressionTemplate.model_rebuild()
