from odoo.tests import BaseCase, tagged

from ..dci import query as q
from ..dci.errors import DCIError
from ..dci.schemas.search import SearchCriteria

AMAP = q.AttributeMap(
    (
        q.Attribute("given_name", "given_name", sortable=True, aliases=("name.given_name",)),
        q.Attribute("sex", "sex", values=("male", "female", "other", "unknown")),
        q.Attribute("birth_date", "birthdate", q.DATE, sortable=True),
        q.Attribute("last_updated", "write_date", q.DATETIME, sortable=True),
        q.Attribute("group_size", "group_size", q.INTEGER, sortable=True),
        q.Attribute("score", "score", q.NUMBER),
        q.Attribute("is_disabled", "is_disabled", q.BOOLEAN),
        q.Attribute("address.country_code", "country_id.code"),
    ),
    identifier=q.IdentifierField("registry_id_ids", "id_type_id", "value"),
    max_in_values=3,
    max_terms=6,
    max_depth=3,
)
ID_TYPES = {"UIN": 1, "NID": 2}


def criteria(query_type, query, **values):
    return SearchCriteria.from_json({"query_type": query_type, "query": query, **values})


def translate(query_type, query, **values):
    c = criteria(query_type, query, **values)
    return q.translate_query(c.query_type, c.query, AMAP, identifier_types=ID_TYPES)


def expression(clause, collection=None):
    value = {"expression": {"query": clause}}
    if collection:
        value["expression"]["collection"] = collection
    return {"type": "ns:org:QueryType:expression", "value": value}


def pred(name, operator, value):
    return {"attribute_name": name, "operator": operator, "attribute_value": value}


@tagged("post_install", "-at_install")
class TestQuery(BaseCase):
    """DCI queries -> domains over the allow-list (plain Python, no ORM)."""

    def assertCode(self, code, func, *args, **kwargs):
        with self.assertRaises(DCIError) as caught:
            func(*args, **kwargs)
        self.assertEqual(str(caught.exception.code), code, caught.exception.message)
        return caught.exception

    # --- idtype-value ---

    def test_idtype_value(self):
        result = translate("idtype-value", {"type": "UIN", "value": " 123 "})
        self.assertEqual(
            result.domain,
            [("registry_id_ids", "any", [("id_type_id", "=", 1), ("value", "=", "123")])],
        )
        self.assertIsNone(result.collection)
        prefixed = translate("idtype-value", {"type": "ns:org:IdType:NID", "value": 42})
        self.assertEqual(prefixed.domain[0][2], [("id_type_id", "=", 2), ("value", "=", "42")])

    def test_idtype_value_rejections(self):
        self.assertCode(
            "rjct.search_criteria.invalid",
            translate,
            "idtype-value",
            {"type": "PASSPORT", "value": "1"},
        )
        self.assertCode(
            "rjct.search_criteria.invalid",
            translate,
            "idtype-value",
            {"type": "UIN", "value": "  "},
        )
        self.assertCode(
            "rjct.search_criteria.invalid",
            translate,
            "idtype-value",
            {"type": "UIN", "value": True},
        )
        no_ids = q.AttributeMap((q.Attribute("sex", "sex"),))
        c = criteria("idtype-value", {"type": "UIN", "value": "1"})
        self.assertCode(
            "rjct.search_criteria.invalid",
            q.translate_query,
            c.query_type,
            c.query,
            no_ids,
            identifier_types=ID_TYPES,
        )

    # --- expression ---

    def test_expression_operators_and_combinators(self):
        clause = {
            "$and": [
                {"sex": {"$eq": "female"}},
                {
                    "$or": [
                        {"birth_date": {"$lt": "2000-01-01", "$ge": "1990-06-01T23:30:00-02:00"}},
                        {"UIN": {"$in": ["1", "2"]}},
                    ]
                },
                {"$not": {"name.given_name": {"$eq": "Eve"}}},
            ]
        }
        result = translate("expression", expression(clause, collection="Person"))
        self.assertEqual(result.collection, "Person")
        self.assertEqual(
            result.domain,
            [
                "&",
                "&",
                ("sex", "=", "female"),
                "|",
                "&",
                ("birthdate", "<", "2000-01-01"),
                ("birthdate", ">=", "1990-06-01"),
                ("registry_id_ids", "any", [("id_type_id", "=", 1), ("value", "in", ["1", "2"])]),
                "!",
                ("given_name", "=", "Eve"),
            ],
        )

    def test_expression_types(self):
        cases = [
            ({"group_size": {"$gt": 3}}, [("group_size", ">", 3)]),
            ({"score": {"$le": 4.5}}, [("score", "<=", 4.5)]),
            ({"is_disabled": {"$eq": True}}, [("is_disabled", "=", True)]),
            (
                {"last_updated": {"$ge": "2024-01-01T10:00:00+02:00"}},
                [("write_date", ">=", "2024-01-01 08:00:00")],
            ),
            ({"last_updated": {"$lt": "2024-01-02"}}, [("write_date", "<", "2024-01-02 00:00:00")]),
            ({"address.country_code": {"$eq": "US"}}, [("country_id.code", "=", "US")]),
        ]
        for clause, domain in cases:
            with self.subTest(clause=clause):
                self.assertEqual(translate("expression", expression(clause)).domain, domain)

    def test_expression_rejections(self):
        bad = [
            ({"poverty_score": {"$lt": 5}}, "rjct.filter.invalid"),  # not in the allow-list
            ({"sex": {"$regex": "f"}}, "rjct.filter.invalid"),  # unknown operator
            ({"sex": "female"}, "rjct.filter.invalid"),  # not {"$op": value}
            ({"sex": {"$eq": "woman"}}, "rjct.filter.invalid"),  # outside the enumeration
            ({"group_size": {"$gt": "3"}}, "rjct.filter.invalid"),
            ({"group_size": {"$gt": True}}, "rjct.filter.invalid"),
            ({"birth_date": {"$lt": "01/02/2000"}}, "rjct.filter.invalid"),
            ({"birth_date": {"$lt": "2000-02-30"}}, "rjct.filter.invalid"),
            (
                {"last_updated": {"$lt": "2024-01-01T10:00:00"}},
                "rjct.filter.invalid",
            ),  # no time zone
            ({"is_disabled": {"$gt": True}}, "rjct.filter.invalid"),
            ({"sex": {"$in": []}}, "rjct.filter.invalid"),
            (
                {"sex": {"$in": ["male", "female", "other", "unknown"]}},
                "rjct.filter.invalid",
            ),  # > max_in_values
            ({"sex": {"$eq": ["male"]}}, "rjct.filter.invalid"),
            ({"UIN": {"$lt": "5"}}, "rjct.filter.invalid"),  # identifiers: eq / in only
            ({"$and": []}, "rjct.search_criteria.invalid"),
            ({}, "rjct.search_criteria.invalid"),
            (
                {"$and": [{"$and": [{"$and": [{"$and": [{"sex": {"$eq": "male"}}]}]}]}]},
                "rjct.filter.invalid",
            ),
            ({"$or": [{"sex": {"$eq": "male"}}] * 7}, "rjct.filter.invalid"),  # > max_terms
            ({"id": {"$eq": 1}}, "rjct.filter.invalid"),  # raw field names never pass
            ({"write_date": {"$eq": "x"}}, "rjct.filter.invalid"),
        ]
        for clause, code in bad:
            with self.subTest(clause=clause):
                self.assertCode(code, translate, "expression", expression(clause))
        graphql = {"type": "graphql", "value": {"expression": "query { member }"}}
        self.assertCode("rjct.search_criteria.invalid", translate, "expression", graphql)

    # --- predicate ---

    def test_predicate(self):
        query = [
            {"seq_num": 2, "expression1": pred("sex", "in", "male, female")},
            {
                "seq_num": 1,
                "expression1": pred("group_size", "ge", 2),
                "condition": "or",
                "expression2": pred("UIN", "eq", "7"),
            },
            {"expression1": pred("given_name", "eq", "Eve"), "condition": "not"},
            {
                "seq_num": 3,
                "expression1": pred("birth_date", "gt", "1990-01-01"),
                "condition": "not",
                "expression2": pred("given_name", "eq", "Bob"),
            },
        ]
        result = translate("predicate", query)
        self.assertEqual(
            result.domain,
            [
                "&",
                "&",
                "&",
                "|",
                ("group_size", ">=", 2),
                ("registry_id_ids", "any", [("id_type_id", "=", 1), ("value", "=", "7")]),
                ("sex", "in", ["male", "female"]),
                "&",
                ("birthdate", ">", "1990-01-01"),
                "!",
                ("given_name", "=", "Bob"),
                "!",
                ("given_name", "=", "Eve"),
            ],
        )

    def test_predicate_rejections(self):
        self.assertCode(
            "rjct.search_criteria.invalid",
            translate,
            "predicate",
            [{"expression1": pred("sex", "eq", "male"), "condition": "and"}],
        )
        self.assertCode(
            "rjct.filter.invalid",
            translate,
            "predicate",
            [{"expression1": pred("salary", "gt", 5)}],
        )
        self.assertCode(
            "rjct.filter.invalid", translate, "predicate", [{"expression1": pred("sex", "in", ",")}]
        )

    # --- sort and pagination ---

    def test_sort(self):
        c = criteria(
            "idtype-value",
            {"type": "UIN", "value": "1"},
            sort=[
                {"attribute_name": "birth_date", "sort_order": "desc"},
                {"attribute_name": "name.given_name"},
                {"attribute_name": "given_name", "sort_order": "desc"},
            ],
        )
        self.assertEqual(q.translate_sort(c.sort, AMAP), "birthdate desc, given_name asc, id asc")
        self.assertEqual(q.translate_sort(None, AMAP), "id asc")
        for name in ("sex", "UIN", "nope"):
            with self.subTest(name=name):
                c = criteria(
                    "idtype-value", {"type": "UIN", "value": "1"}, sort=[{"attribute_name": name}]
                )
                self.assertCode("rjct.sort.invalid", q.translate_sort, c.sort, AMAP)

    def test_pagination(self):
        page = q.paginate(None, 50)
        self.assertEqual((page.limit, page.offset, page.requested), (50, 0, False))
        c = criteria(
            "idtype-value",
            {"type": "UIN", "value": "1"},
            pagination={"page_size": 20, "page_number": 3},
        )
        page = q.paginate(c.pagination, 50)
        self.assertEqual(
            (page.limit, page.offset, page.page_number, page.requested), (20, 40, 3, True)
        )
        c = criteria("idtype-value", {"type": "UIN", "value": "1"}, pagination={"page_size": 51})
        self.assertCode("rjct.pagination.invalid", q.paginate, c.pagination, 50)

    def test_pagination_depth(self):
        def page(number, size=100):
            pagination = {"page_size": size, "page_number": number}
            return criteria("idtype-value", {"type": "UIN", "value": "1"}, pagination=pagination)

        self.assertEqual(q.paginate(page(100).pagination, 100, 10_000).offset, 9_900)
        for number in (101, 2**31 - 1):
            with self.subTest(number=number):
                self.assertCode(
                    "rjct.pagination.invalid", q.paginate, page(number).pagination, 100, 10_000
                )
        # without a depth (the protocol core's own default) any page number is read
        self.assertEqual(q.paginate(page(2**31 - 1, 1).pagination, 100).offset, 2**31 - 2)

    def test_allow_list(self):
        self.assertIn("name.given_name", AMAP.names())
        with self.assertRaises(ValueError):
            q.AttributeMap((q.Attribute("a", "a"), q.Attribute("b", "b", aliases=("a",))))
        with self.assertRaises(ValueError):
            q.Attribute("a", "a", type="text")
        self.assertEqual(q.domain_and(), [])
        self.assertEqual(q.domain_or([("a", "=", 1)]), [("a", "=", 1)])
