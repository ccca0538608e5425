import logging
from dataclasses import dataclass

from odoo import api, models, tools
from odoo.addons.spp_dci.dci.codes import SearchStatusReasonCode
from odoo.addons.spp_dci.dci.errors import DCIError
from odoo.addons.spp_dci.dci.query import (
    AttributeMap,
    expression_collection,
    paginate,
    translate_query,
    translate_sort,
)
from odoo.addons.spp_dci.dci.schemas.common import DCI_VERSION
from odoo.fields import Domain
from odoo.tools import SQL

from ..services import search_limits
from ..services.totals import totals

_logger = logging.getLogger(__name__)


def identifier_lookup(domain, identifier):
    """``(type key, value)`` when ``domain`` is exactly one ``idtype-value`` condition.

    That is the domain ``translate_query`` gives for an ``idtype-value`` query (one
    ``any`` on the identifier lines: type ``=`` key, value ``=`` value); None otherwise.
    """
    if identifier is None or len(domain) != 1:
        return None
    leaf = domain[0]
    if not (isinstance(leaf, tuple) and len(leaf) == 3 and leaf[:2] == (identifier.path, "any")):
        return None
    conditions = leaf[2]
    if len(conditions) != 2:
        return None
    (type_field, type_op, key), (value_field, value_op, value) = conditions
    if (type_field, type_op, value_field, value_op) != (
        identifier.type_field,
        "=",
        identifier.value_field,
        "=",
    ) or not isinstance(value, str):
        return None
    return key, value


@dataclass(frozen=True)
class RecordType:
    """One kind of record a registry returns (Person, Group, Member ...)."""

    name: str  # what goes in reg_record_type and @type
    model: str  # the Odoo model searched
    domain: tuple  # base domain of the records of this type
    attributes: AttributeMap  # the allow-list of searchable DCI attributes
    # The fields of ``model`` that _dci_serialize reads: fetched with the search (one
    # query for search + read), and the allow-list of the changes that are notified
    # to subscribers (see _dci_serialised_fields).
    fetch: tuple = ()


class SppDciRegistry(models.AbstractModel):
    """Base of the registry implementations that the DCI server finds at run time.

    An addon implements a registry type by adding an abstract model that
    inherits this one and sets ``_dci_reg_type`` (``"social"``, ``"crvs"`` ...).
    The server looks it up in the model registry when a request arrives
    (:meth:`_dci_implementation`), so nothing imports the implementing addon: an
    endpoint whose registry type has no installed implementation answers
    ``rjct.action.not_supported``.

    An implementation provides :meth:`_dci_record_types` (record types, each with
    its model, base domain and attribute allow-list), :meth:`_dci_serialize`
    (records -> JSON-LD objects), :meth:`_dci_identifier_types` and the type
    used when a request names none (:meth:`_dci_default_record_type`). Search,
    sort, pagination and subscription matching are generic (below).
    """

    _name = "spp.dci.registry"
    _description = "DCI Registry Implementation (base)"

    #: Registry type served (``fastapi.endpoint.dci_registry_type``); None on the base.
    _dci_reg_type = None
    #: ``reg_type`` value of our responses, e.g. ``ns:org:RegistryType:Social``.
    _dci_reg_type_uri = None

    # --- discovery -------------------------------------------------------------------

    @api.model
    def _dci_implementation(self, reg_type):
        """The implementation model of ``reg_type`` (an empty recordset), or None."""
        name = self._dci_implementation_name(reg_type)
        return self.env[name] if name else None

    @api.model
    @tools.ormcache("reg_type")
    def _dci_implementation_name(self, reg_type):
        names = sorted(
            name
            for name, model_class in self.env.registry.items()
            if getattr(model_class, "_dci_reg_type", None) == reg_type and name != self._name
        )
        if len(names) > 1:
            _logger.warning(
                "Several DCI implementations of %r: %s; using %s", reg_type, names, names[0]
            )
        return names[0] if names else None

    @api.model
    def _dci_implemented_types(self):
        return sorted(
            {
                model_class._dci_reg_type
                for model_class in self.env.registry.values()
                if getattr(model_class, "_dci_reg_type", None)
            }
        )

    # --- to implement ----------------------------------------------------------------

    @api.model
    def _dci_record_types(self):
        """``{name: RecordType}``."""
        raise NotImplementedError

    @api.model
    def _dci_default_record_type(self):
        raise NotImplementedError

    @api.model
    def _dci_record_type_aliases(self):
        """``{normalised name: record type}`` accepted in reg_record_type/response_entity."""
        return {name.lower(): name for name in self._dci_record_types()}

    @api.model
    def _dci_identifier_types(self):
        """``{identifier type code: value compared with IdentifierField.type_field}``."""
        return {}

    @api.model
    def _dci_serialize(self, record_type, records):
        """JSON-LD objects of ``records`` (one query per relation, not per record)."""
        raise NotImplementedError

    @api.model
    def _dci_serialised_fields(self, model_name):
        """The fields of ``model_name`` that this registry's records are made of.

        A write to one of them changes what a subscriber would receive, so it is a
        registry change; any other write (bookkeeping, checks made by other
        systems such as ``ibr_checked_at``) is not, and is not notified. By default:
        each record type's ``fetch`` and base-domain fields, for its own model (the
        ORM's ``write_date`` left out: every write bumps it). Implementations add
        the fields of related models their serializer reads.
        """
        names = set()
        for spec in self._dci_record_types().values():
            if spec.model == model_name:
                names.update(spec.fetch)
                names.update(leaf[0] for leaf in spec.domain if isinstance(leaf, tuple | list))
        names.discard("write_date")
        return frozenset(names)

    # --- generic search ------------------------------------------------------------------

    @api.model
    def _dci_normalise_record_type(self, value):
        if not value:
            return None
        key = str(value).rsplit(":", 1)[-1].strip().lower().replace("_", "")
        found = self._dci_record_type_aliases().get(key)
        if not found:
            raise DCIError(
                SearchStatusReasonCode.SEARCH_CRITERIA_INVALID,
                f"unknown record type {value!r}; this registry returns "
                f"{', '.join(self._dci_record_types())}",
            )
        return found

    @api.model
    def _dci_resolve_record_type(self, *candidates):
        """The record type named by the request (response_entity, reg_record_type, collection)."""
        named = {self._dci_normalise_record_type(c) for c in candidates if c}
        if len(named) > 1:
            raise DCIError(
                SearchStatusReasonCode.SEARCH_CRITERIA_INVALID,
                f"the request names several record types ({', '.join(sorted(named))}); "
                "one record type per response",
            )
        return named.pop() if named else self._dci_default_record_type()

    @api.model
    def _dci_translate(self, record_type, query_type, query):
        return translate_query(
            query_type,
            query,
            self._dci_record_types()[record_type].attributes,
            identifier_types=self._dci_identifier_types(),
        )

    @api.model
    def _dci_domain(
        self, query_type, query, *, record_type=None, entity=None, reg_record_type=None
    ):
        """``(RecordType, domain)`` of a query; raises DCIError.

        The record type is ``record_type`` when given, else the one named by
        ``response_entity`` / ``reg_record_type``; an expression's ``collection``
        may name it too, and must agree with the others when several are given
        (``rjct.search_criteria.invalid``, checked before any attribute, so the
        attributes never make it ``rjct.filter.invalid`` instead).
        """
        spec, translated = self._dci_translated(
            query_type,
            query,
            record_type=record_type,
            entity=entity,
            reg_record_type=reg_record_type,
        )
        return spec, Domain.AND([Domain(list(spec.domain)), Domain(translated.domain)])

    @api.model
    def _dci_translated(
        self, query_type, query, *, record_type=None, entity=None, reg_record_type=None
    ):
        """``(RecordType, TranslatedQuery)`` of a query (see :meth:`_dci_domain`)."""
        explicit = bool(record_type or entity or reg_record_type)
        if record_type is None:
            record_type = self._dci_resolve_record_type(entity, reg_record_type)
        # before the attributes: which exist depends on the record type
        collection = expression_collection(query_type, query)
        if collection:
            collection = self._dci_normalise_record_type(collection)
            if collection != record_type:
                if explicit:
                    raise DCIError(
                        SearchStatusReasonCode.SEARCH_CRITERIA_INVALID,
                        f"the expression's collection {collection!r} is not the requested "
                        f"record type {record_type!r}; one record type per response",
                    )
                record_type = collection
        translated = self._dci_translate(record_type, query_type, query)
        return self._dci_record_types()[record_type], translated

    @api.model
    def _dci_search(self, criteria, max_page_size, max_depth=None):
        """Run one ``search_criteria``; return ``(data, pagination)`` dicts.

        ``max_depth``: pages must start within that many records (see ``paginate``).
        An ``idtype-value`` query is answered by :meth:`_dci_identifier_records` when
        the implementation has that lookup, else (and for every other query) by the ORM.

        :raises DCIError: with a SearchStatusReasonCode for this item.
        """
        entity = criteria.response_entity.value if criteria.response_entity else None
        spec, translated = self._dci_translated(
            criteria.query_type,
            criteria.query,
            entity=entity,
            reg_record_type=criteria.reg_record_type,
        )
        order = translate_sort(criteria.sort, spec.attributes)
        page = paginate(criteria.pagination, max_page_size, max_depth)
        lookup = identifier_lookup(translated.domain, spec.attributes.identifier)
        found = self._dci_identifier_records(spec, *lookup) if lookup else None
        if found is not None:
            more = len(found) > page.offset + page.limit
            reg_records = found[page.offset : page.offset + page.limit]

            def count():
                return len(found)

        else:
            domain = Domain.AND([Domain(list(spec.domain)), Domain(translated.domain)])
            # What a sender may see is the record type's base domain and attribute
            # allow-list; the endpoint user's multi-company rule is applied as resolved
            # once per process (evaluated by the ORM, its parent_of costs a query and a
            # domain walk per search).
            Model = self.env[spec.model].sudo()
            domain = Domain.AND([domain, self._dci_company_domain(Model)])
            # One query in the common case: one record more than the page says whether
            # more follow.
            search_limits.begin(self.env.cr)
            records = Model.search_fetch(
                domain, list(spec.fetch), order=order, limit=page.limit + 1, offset=page.offset
            )
            more = len(records) > page.limit
            reg_records = records = records[: page.limit]

            def count():
                return totals.count(Model, domain)  # once per search, reused by its next pages

        if not page.requested and more:
            raise DCIError(
                SearchStatusReasonCode.SEARCH_TOO_MANY_RECORDS_FOUND,
                f"more than {page.limit} records match; ask for them page by page "
                f"(pagination.page_size <= {max_page_size})",
            )
        if not more and (reg_records or not page.offset):
            total = page.offset + len(reg_records)  # the last page: no count needed
        else:
            total = count()
        if found is None:
            reg_records = self.sudo()._dci_serialize(spec.name, records)
        data = {
            "version": DCI_VERSION,
            "reg_type": self._dci_reg_type_uri,
            "reg_record_type": spec.name,
            "reg_records": reg_records,
        }
        pagination = {
            "page_size": page.page_size,
            "page_number": page.page_number,
            "total_count": total,
        }
        return data, pagination

    @api.model
    def _dci_identifier_records(self, spec, id_key, value):
        """The JSON-LD objects of the ``spec`` records holding the identifier, or None.

        An implementation may answer ``idtype-value`` lookups here in read-only SQL (the
        ORM adds nothing to one indexed read), with exactly what :meth:`_dci_serialize`
        gives for the records the ORM would find: the record type's base domain, the
        endpoint user's companies and ``active`` included (:meth:`_dci_base_query`),
        ordered by id; its first statement goes through ``search_limits.first_statement``
        (the item's time limit). None (the default): the ORM answers.
        """
        return None

    @api.model
    @tools.ormcache("self.env.uid", "record_type", "self.env.context.get('active_test', True)")
    def _dci_base_query(self, record_type):
        """``(FROM, WHERE)`` SQL of the records a sender may see of ``record_type``.

        The record type's base domain, ``active`` and the endpoint user's companies as
        the ORM compiles them (sudo: the DCI access rules are these), once per process;
        its table's alias is its name. Cleared with Odoo's caches (as the companies are).
        """
        spec = self._dci_record_types()[record_type]
        Model = self.env[spec.model].sudo()
        domain = Domain.AND([Domain(list(spec.domain)), self._dci_company_domain(Model)])
        query = Model._search(domain)
        if query.is_empty():
            return SQL.identifier(Model._table), SQL("FALSE")
        return query.from_clause, query.where_clause

    @api.model
    def _dci_company_domain(self, Model):
        if "company_id" not in Model._fields:
            return Domain.TRUE
        return Domain("company_id", "=", False) | Domain(
            "company_id", "in", list(self._dci_allowed_company_ids())
        )

    @api.model
    @tools.ormcache("self.env.uid")
    def _dci_allowed_company_ids(self):
        """The companies whose records the endpoint user's multi-company rules let it read."""
        companies = self.env.user.company_ids.ids
        return tuple(self.env["res.company"].sudo().search([("id", "parent_of", companies)]).ids)

    @api.model
    def _dci_match(self, record_type, query_type, query, record_ids):
        """The ids among ``record_ids`` that match a subscription filter."""
        spec, domain = self._dci_domain(query_type, query, record_type=record_type)
        return (
            self.env[spec.model]
            .search(Domain.AND([domain, Domain("id", "in", list(record_ids))]))
            .ids
        )
