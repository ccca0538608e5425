# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
"""DCI search queries and subscription filters -> Odoo domains, over an allow-list.

A registry implementation declares which DCI attributes it can search, as an
:class:`AttributeMap` of :class:`Attribute` (DCI name -> field path, type,
allowed values, sortable) plus, optionally, an :class:`IdentifierField` that
makes every identifier type code (``UIN``, ``NID`` ...) searchable. The
functions here turn the three DCI query types into a domain in Odoo's prefix
notation (plain lists and tuples, no ORM import):

``idtype-value``
    ``{"type": "UIN", "value": "123"}`` -> registrants holding that identifier.
``expression``
    ``{"type": ..., "value": {"expression": {"collection": "Group", "query":
    {"$and": [{"group_size": {"$lt": 5}}]}}}}``: ``$and``/``$or``/``$not``
    combine clauses, every other key is an attribute with ``{"$op": value}``;
    several keys (or operators) in one clause are ANDed.
``predicate``
    ``[{"seq_num": 1, "expression1": {...}, "condition": "and",
    "expression2": {...}}]``: each item is ``expression1 <condition>
    expression2`` (``not`` means ``expression1 AND NOT expression2``, or ``NOT
    expression1`` without ``expression2``); items are evaluated in ``seq_num``
    order and ANDed.

Nothing the caller sends reaches the ORM as a field name or operator: names
are looked up in the allow-list, operators in :data:`OPERATORS`, values are
type-checked. Failures raise :class:`~.errors.DCIError` with
``rjct.filter.invalid`` (unknown attribute, operator or bad value),
``rjct.search_criteria.invalid`` (malformed query, unsupported query type),
``rjct.sort.invalid`` or ``rjct.pagination.invalid``.

Where the spec is silent (documented in docs/server.md):

* ``in`` takes a JSON array in expressions; in predicates, whose
  ``attribute_value`` cannot be an array in the spec, a comma-separated string.
* Dates accept ``YYYY-MM-DD`` or an RFC 3339 date-time (its date part is used).
* An identifier type may be sent bare (``UIN``) or prefixed
  (``ns:org:IdType:UIN``): the part after the last ``:`` is used when the
  whole string is not a known code.
"""

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from pydantic import ValidationError

from .codes import ExpCondition, ExpOperator, QueryType, SearchStatusReasonCode, SortOrder
from .errors import DCIError

__all__ = [
    "OPERATORS",
    "Attribute",
    "AttributeMap",
    "IdentifierField",
    "Page",
    "TranslatedQuery",
    "domain_and",
    "domain_not",
    "domain_or",
    "paginate",
    "translate_query",
    "translate_sort",
]

#: DCI operator -> domain operator. The only operators that reach a domain.
OPERATORS = {
    ExpOperator.EQ: "=",
    ExpOperator.LT: "<",
    ExpOperator.GT: ">",
    ExpOperator.LE: "<=",
    ExpOperator.GE: ">=",
    ExpOperator.IN: "in",
}
_ORDERING = frozenset({ExpOperator.LT, ExpOperator.GT, ExpOperator.LE, ExpOperator.GE})

STRING = "string"
INTEGER = "integer"
NUMBER = "number"
DATE = "date"
DATETIME = "datetime"
BOOLEAN = "boolean"
TYPES = (STRING, INTEGER, NUMBER, DATE, DATETIME, BOOLEAN)

FILTER_INVALID = SearchStatusReasonCode.FILTER_INVALID
CRITERIA_INVALID = SearchStatusReasonCode.SEARCH_CRITERIA_INVALID

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


@dataclass(frozen=True)
class Attribute:
    """One searchable DCI attribute.

    :param name: the DCI attribute name callers use (``birth_date``).
    :param field: the field path in the domain (``birthdate``, ``country_id.code``).
    :param type: one of :data:`TYPES`.
    :param values: the allowed values (an enumeration such as SexCategoryEnum);
        empty means any value of ``type``.
    :param sortable: whether ``sort[].attribute_name`` may name it (then
        ``field`` must be a stored column of the searched model).
    :param aliases: other names accepted for it (``name.surname``).
    """

    name: str
    field: str
    type: str = STRING
    values: tuple = ()
    sortable: bool = False
    aliases: tuple = ()
    description: str = ""

    def __post_init__(self):
        if self.type not in TYPES:
            raise ValueError(f"unknown attribute type {self.type!r}")


@dataclass(frozen=True)
class IdentifierField:
    """How identifiers are stored: a one2many of (type, value) lines.

    ``type_field`` is compared with the value that the caller's
    ``identifier_types`` mapping gives for a type code (e.g. the id of the
    identifier type record), ``value_field`` with the identifier value.
    """

    path: str
    type_field: str
    value_field: str


@dataclass
class AttributeMap:
    """The allow-list of one record type: DCI attribute name -> :class:`Attribute`."""

    attributes: tuple
    identifier: IdentifierField | None = None
    max_in_values: int = 100
    max_terms: int = 50
    max_depth: int = 8
    _by_name: dict = field(init=False, repr=False)

    def __post_init__(self):
        self._by_name = {}
        for attribute in self.attributes:
            for name in (attribute.name, *attribute.aliases):
                if name in self._by_name:
                    raise ValueError(f"attribute name {name!r} declared twice")
                self._by_name[name] = attribute

    def get(self, name):
        return self._by_name.get(name)

    def names(self):
        """Every accepted attribute name (aliases included), sorted."""
        return sorted(self._by_name)


@dataclass(frozen=True)
class TranslatedQuery:
    """A translated query: the domain and the ``collection`` named by an expression."""

    domain: list
    collection: str | None = None


@dataclass(frozen=True)
class Page:
    """Pagination of one search: what to pass to ``search(limit, offset)``."""

    page_size: int
    page_number: int
    requested: bool

    @property
    def limit(self):
        return self.page_size

    @property
    def offset(self):
        return (self.page_number - 1) * self.page_size


# --- domain combinators (prefix notation; each argument is one expression) ---------


def domain_and(*domains):
    domains = [d for d in domains if d]
    if not domains:
        return []
    out = ["&"] * (len(domains) - 1)
    for domain in domains:
        out.extend(domain)
    return out


def domain_or(*domains):
    domains = [d for d in domains if d]
    if not domains:
        return []
    out = ["|"] * (len(domains) - 1)
    for domain in domains:
        out.extend(domain)
    return out


def domain_not(domain):
    return ["!", *domain] if domain else []


# --- values -------------------------------------------------------------------------


def _fail(code, message):
    raise DCIError(code, message)


def _convert_scalar(attribute: Attribute, value):
    kind = attribute.type
    if kind == STRING:
        if isinstance(value, bool) or not isinstance(value, str | int):
            _fail(FILTER_INVALID, f"{attribute.name}: expected a string")
        value = str(value)
    elif kind == INTEGER:
        if isinstance(value, bool) or not isinstance(value, int):
            _fail(FILTER_INVALID, f"{attribute.name}: expected an integer")
    elif kind == NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float):
            _fail(FILTER_INVALID, f"{attribute.name}: expected a number")
    elif kind == BOOLEAN:
        if not isinstance(value, bool):
            _fail(FILTER_INVALID, f"{attribute.name}: expected true or false")
    elif kind == DATE:
        value = _parse_date(attribute, value).isoformat()
    elif kind == DATETIME:
        value = _parse_datetime(attribute, value)
    if attribute.values and value not in attribute.values:
        allowed = ", ".join(str(v) for v in attribute.values)
        _fail(FILTER_INVALID, f"{attribute.name}: {value!r} is not one of {allowed}")
    return value


def _parse_date(attribute, value) -> date:
    if isinstance(value, str):
        try:
            if _DATE_RE.match(value):
                return date.fromisoformat(value)
            if _DATETIME_RE.match(value):
                return datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00")).date()
        except ValueError:
            pass
    _fail(FILTER_INVALID, f"{attribute.name}: expected a date (YYYY-MM-DD or RFC 3339 date-time)")


def _parse_datetime(attribute, value) -> str:
    """Naive UTC ``YYYY-MM-DD HH:MM:SS``, the form Odoo stores datetimes in."""
    if isinstance(value, str):
        try:
            if _DATE_RE.match(value):
                return f"{date.fromisoformat(value).isoformat()} 00:00:00"
            if _DATETIME_RE.match(value):
                parsed = datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00"))
                return parsed.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        except ValueError:
            pass
    _fail(FILTER_INVALID, f"{attribute.name}: expected an RFC 3339 date-time with time zone")


def _convert(
    attribute: Attribute, operator: ExpOperator, value, amap: AttributeMap, *, csv_in=False
):
    if operator == ExpOperator.IN:
        if csv_in and isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if not isinstance(value, list) or not value:
            _fail(FILTER_INVALID, f"{attribute.name}: 'in' needs a non-empty list of values")
        if len(value) > amap.max_in_values:
            _fail(
                FILTER_INVALID, f"{attribute.name}: 'in' takes at most {amap.max_in_values} values"
            )
        return [_convert_scalar(attribute, item) for item in value]
    if isinstance(value, list | dict):
        _fail(FILTER_INVALID, f"{attribute.name}: operator {operator.value!r} needs a single value")
    if operator in _ORDERING and attribute.type == BOOLEAN:
        _fail(
            FILTER_INVALID,
            f"{attribute.name}: operator {operator.value!r} does not apply to booleans",
        )
    return _convert_scalar(attribute, value)


# --- leaves -------------------------------------------------------------------------


class _Translator:
    def __init__(self, amap: AttributeMap, identifier_types: dict):
        self.amap = amap
        self.identifier_types = identifier_types or {}
        self.terms = 0

    def identifier_key(self, name):
        """The identifier type value for a code (``UIN`` or ``ns:org:IdType:UIN``), or None."""
        if self.amap.identifier is None or not isinstance(name, str):
            return None
        if name in self.identifier_types:
            return self.identifier_types[name]
        short = name.rsplit(":", 1)[-1]
        return self.identifier_types.get(short)

    def leaf(self, name, operator, value, *, csv_in=False):
        self.terms += 1
        if self.terms > self.amap.max_terms:
            _fail(FILTER_INVALID, f"the query has more than {self.amap.max_terms} conditions")
        try:
            operator = ExpOperator(operator)
        except ValueError:
            _fail(FILTER_INVALID, f"unknown operator {operator!r}")
        attribute = self.amap.get(name)
        if attribute is not None:
            converted = _convert(attribute, operator, value, self.amap, csv_in=csv_in)
            return [(attribute.field, OPERATORS[operator], converted)]
        id_key = self.identifier_key(name)
        if id_key is not None:
            return self.identifier_leaf(name, id_key, operator, value, csv_in=csv_in)
        _fail(FILTER_INVALID, f"unknown attribute {name!r}")

    def identifier_leaf(self, name, id_key, operator, value, *, csv_in=False):
        ident = self.amap.identifier
        if operator not in (ExpOperator.EQ, ExpOperator.IN):
            _fail(FILTER_INVALID, f"{name}: identifiers are compared with eq or in only")
        pseudo = Attribute(name=name, field=ident.value_field)
        converted = _convert(pseudo, operator, value, self.amap, csv_in=csv_in)
        if operator == ExpOperator.IN:
            converted = [v.strip() for v in converted]
        else:
            converted = converted.strip()
        return [
            (
                ident.path,
                "any",
                [
                    (ident.type_field, "=", id_key),
                    (ident.value_field, OPERATORS[operator], converted),
                ],
            )
        ]

    # --- expression ($and / $or / $not) ---

    def clause(self, clause, depth=0):
        if depth > self.amap.max_depth:
            _fail(FILTER_INVALID, f"the query is nested deeper than {self.amap.max_depth} levels")
        parts = []
        if clause.and_ is not None:
            if not clause.and_:
                _fail(CRITERIA_INVALID, "$and needs at least one clause")
            parts.append(domain_and(*[self.clause(c, depth + 1) for c in clause.and_]))
        if clause.or_ is not None:
            if not clause.or_:
                _fail(CRITERIA_INVALID, "$or needs at least one clause")
            parts.append(domain_or(*[self.clause(c, depth + 1) for c in clause.or_]))
        if clause.not_ is not None:
            parts.append(domain_not(self.clause(clause.not_, depth + 1)))
        for name, condition in clause.conditions().items():
            for operator, value in condition.items():
                parts.append(self.leaf(name, operator.removeprefix("$"), value))
        if not parts:
            _fail(CRITERIA_INVALID, "empty expression clause")
        return domain_and(*parts)

    # --- predicate ---

    def predicate(self, items):
        def order(indexed):
            index, item = indexed
            seq = item.seq_num
            return (seq is None, seq if seq is not None else 0, index)

        parts = []
        for _index, item in sorted(enumerate(items), key=order):
            first = self.predicate_leaf(item.expression1)
            second = self.predicate_leaf(item.expression2) if item.expression2 is not None else None
            condition = item.condition
            if condition is None:
                parts.append(first)
            elif condition == ExpCondition.NOT:
                parts.append(domain_and(first, domain_not(second)) if second else domain_not(first))
            elif second is None:
                _fail(CRITERIA_INVALID, f"condition {condition.value!r} needs expression2")
            elif condition == ExpCondition.AND:
                parts.append(domain_and(first, second))
            else:
                parts.append(domain_or(first, second))
        return domain_and(*parts)

    def predicate_leaf(self, expression):
        return self.leaf(
            expression.attribute_name, expression.operator, expression.attribute_value, csv_in=True
        )


def translate_query(
    query_type, query, amap: AttributeMap, *, identifier_types=None
) -> TranslatedQuery:
    """Translate a parsed ``search_criteria.query`` / ``subscribe_criteria.filter``.

    :param query_type: a :class:`~.codes.QueryType` (or its value).
    :param query: the parsed query from :mod:`.schemas.search` (``IdTypeValueQuery``,
        ``ExpressionQuery`` or a list of ``PredicateWithCondition``).
    :param identifier_types: ``{type code: value compared with IdentifierField.type_field}``.
    :raises DCIError: ``rjct.search_criteria.invalid`` / ``rjct.filter.invalid``.
    """
    try:
        query_type = QueryType(query_type)
    except ValueError:
        _fail(CRITERIA_INVALID, f"unknown query type {query_type!r}")
    translator = _Translator(amap, identifier_types)
    if query_type == QueryType.IDTYPE_VALUE:
        return TranslatedQuery(_idtype_value(translator, query))
    if query_type == QueryType.PREDICATE:
        if not isinstance(query, list) or not query:
            _fail(CRITERIA_INVALID, "a predicate query is a non-empty list of predicates")
        return TranslatedQuery(translator.predicate(query))
    if query_type == QueryType.EXPRESSION:
        try:
            template = query.expression()
        except (ValidationError, AttributeError, TypeError) as exc:
            code = CRITERIA_INVALID
            if isinstance(exc, ValidationError) and any(
                e["type"] in _FILTER_ERROR_TYPES
                for e in exc.errors(include_url=False, include_input=False)
            ):
                code = FILTER_INVALID
            _fail(code, f"query.value.expression is not a valid expression: {_first_error(exc)}")
        if isinstance(template, str):
            _fail(
                CRITERIA_INVALID, "query.value.expression must be an object ({collection, query})"
            )
        return TranslatedQuery(translator.clause(template.query), template.collection)
    _fail(CRITERIA_INVALID, f"query type {query_type.value!r} is not supported by this registry")


def expression_collection(query_type, query) -> str | None:
    """The ``collection`` an expression query names, read before any attribute is.

    The record type decides which attributes exist, so a disagreement between it and
    the collection is found first, whatever the attributes (``rjct.search_criteria.invalid``);
    a malformed query gives None here and its own error at :func:`translate_query`.
    """
    if query_type != QueryType.EXPRESSION:  # a StrEnum: equal to its value too
        return None
    try:
        template = query.expression()
    except (ValidationError, AttributeError, TypeError):
        return None
    return None if isinstance(template, str) else template.collection


# Schema errors about an attribute's condition (unknown $operator, not an object).
_FILTER_ERROR_TYPES = {"expression_operator", "expression_condition"}


def _first_error(exc):
    if isinstance(exc, ValidationError):
        errors = exc.errors(include_url=False, include_input=False)
        if errors:
            where = ".".join(str(p) for p in errors[0]["loc"])
            return f"{where}: {errors[0]['msg']}" if where else errors[0]["msg"]
    return "malformed"


def _idtype_value(translator: _Translator, query):
    id_type = getattr(query, "type", None)
    value = getattr(query, "value", None)
    if translator.amap.identifier is None:
        _fail(CRITERIA_INVALID, "this record type has no identifiers to search")
    id_key = translator.identifier_key(id_type)
    if id_key is None:
        _fail(CRITERIA_INVALID, f"unknown identifier type {id_type!r}")
    if isinstance(value, bool) or not isinstance(value, str | int) or not str(value).strip():
        _fail(CRITERIA_INVALID, "idtype-value needs a non-empty string value")
    return translator.identifier_leaf(id_type, id_key, ExpOperator.EQ, str(value))


# --- sort and pagination ----------------------------------------------------------


def translate_sort(sort, amap: AttributeMap, *, tiebreaker="id") -> str:
    """``search_criteria.sort`` -> an ORM order string, always ending with ``tiebreaker``.

    :raises DCIError: ``rjct.sort.invalid`` for unknown or unsortable attributes.
    """
    parts = []
    seen = set()
    for item in sort or ():
        name = item.attribute_name
        attribute = amap.get(name)
        if attribute is None or not attribute.sortable:
            _fail(SearchStatusReasonCode.SORT_INVALID, f"cannot sort on {name!r}")
        if attribute.field in seen:
            continue
        seen.add(attribute.field)
        direction = "desc" if item.sort_order == SortOrder.DESC else "asc"
        parts.append(f"{attribute.field} {direction}")
    if tiebreaker and tiebreaker not in seen:
        parts.append(f"{tiebreaker} asc")
    return ", ".join(parts)


def paginate(pagination, max_page_size: int, max_depth: int | None = None) -> Page:
    """``search_criteria.pagination`` -> :class:`Page` (without one: page 1 of ``max_page_size``).

    ``max_depth``: a page must start within the first ``max_depth`` records (an
    OFFSET reads every record it skips, so page numbers are bounded).

    :raises DCIError: ``rjct.pagination.invalid`` when ``page_size`` exceeds
        ``max_page_size`` or the page starts beyond ``max_depth``.
    """
    if pagination is None:
        return Page(max_page_size, 1, requested=False)
    if pagination.page_size > max_page_size:
        _fail(
            SearchStatusReasonCode.PAGINATION_INVALID,
            f"page_size {pagination.page_size} is larger than the maximum of {max_page_size}",
        )
    page = Page(pagination.page_size, pagination.page_number or 1, requested=True)
    if max_depth is not None and page.offset >= max_depth:
        _fail(
            SearchStatusReasonCode.PAGINATION_INVALID,
            f"page_number {page.page_number} starts after record {max_depth}, the deepest "
            "that paging reaches; narrow the query (e.g. by last_updated) to reach the others",
        )
    return page
