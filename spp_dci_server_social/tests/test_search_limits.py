"""What one sender's searches may cost: bounded pages, a time limit, indexes, one count."""

import re
import threading
from unittest.mock import patch

from odoo.addons.fastapi.pools import fastapi_app_pool
from odoo.addons.spp_dci.dci.codes import SearchStatusReasonCode
from odoo.addons.spp_dci.dci.errors import DCIError
from odoo.addons.spp_dci_server.services import search_limits
from odoo.addons.spp_dci_server.services.search_limits import TimeLimit
from odoo.addons.spp_dci_server.tests.common import ConcurrencyMixin
from odoo.exceptions import ValidationError
from odoo.sql_db import Cursor
from odoo.tests import tagged
from odoo.tools import SQL, mute_logger

from .common import SURNAME, SocialCase

SYNC = "/registry/sync/search"


@tagged("post_install", "-at_install")
class TestSearchLimits(ConcurrencyMixin, SocialCase):
    def set_endpoint(self, **values):
        self.endpoint.write(values)
        self.endpoint.flush_recordset()
        fastapi_app_pool.invalidate(self.env)  # running servers rebuild the app on commit
        self.addCleanup(fastapi_app_pool.invalidate, self.env)

    def zembla(self, page_number, page_size=1):
        return self.search_item(
            "expression",
            self.expression({"surname": {"$eq": SURNAME}}),
            pagination={"page_size": page_size, "page_number": page_number},
        )

    # --- pages --------------------------------------------------------------------------

    def test_page_number_too_large(self):
        response, body = self.sync_search(self.zembla(2**31 - 1, 10), self.zembla(1, 10))
        self.assertEqual(response.status_code, 200)
        deep, first = body["message"]["search_response"]
        self.assertEqual(
            (deep["status"], deep["status_reason_code"]), ("rjct", "rjct.pagination.invalid")
        )
        self.assertIn("starts after record 100000", deep["status_reason_message"])
        self.assertEqual(first["status"], "succ")
        # the deepest page that paging reaches is still answered
        self.set_endpoint(dci_max_page_size=10, dci_max_search_depth=20)
        last = self.one(
            "expression",
            self.expression({"surname": {"$eq": SURNAME}}),
            pagination={"page_size": 10, "page_number": 2},
        )
        self.assertEqual(last["pagination"], {"page_size": 10, "page_number": 2, "total_count": 4})
        _response, body = self.sync_search(self.zembla(3, 10))
        self.assertEqual(
            body["message"]["search_response"][0]["status_reason_code"], "rjct.pagination.invalid"
        )

    def test_limits_are_sane(self):
        for values in (
            {"dci_max_search_depth": 50},  # less than a page (100)
            {"dci_search_timeout": 10},
            {"dci_search_timeout": -1},
        ):
            with self.subTest(values=values), self.assertRaises(ValidationError):
                self.endpoint.write(values)
        self.endpoint.write({"dci_search_timeout": 0, "dci_max_search_depth": 100})
        config = self.endpoint._dci_config()
        self.assertEqual((config.search_timeout_ms, config.max_search_depth), (0, 100))

    def test_count_once_per_search(self):
        counts = []
        execute = Cursor.execute

        def spy(cursor, query, params=None, log_exceptions=None):
            code = str(getattr(query, "code", query))
            if re.search(r'SELECT COUNT\(\*\) FROM "res_partner"', code, re.IGNORECASE):
                counts.append(code)
            return execute(cursor, query, params, log_exceptions)

        pages = []
        with patch.object(Cursor, "execute", spy):
            for number in (1, 2, 3, 4, 5):
                _response, body = self.sync_search(self.zembla(number))
                (item,) = body["message"]["search_response"]
                self.assertEqual(item["status"], "succ", item)
                pages.append((item["pagination"], self.given_names(item)))
        self.assertEqual(len(counts), 1, "counted on the first page, reused by the next ones")
        self.assertEqual(
            [pagination for pagination, _names in pages],
            [{"page_size": 1, "page_number": n, "total_count": 4} for n in (1, 2, 3, 4, 5)],
        )
        self.assertEqual(
            [names for _pagination, names in pages],
            [["Alice"], ["Bob"], ["Charlie"], ["Daisy"], []],
        )

    # --- time limit ---------------------------------------------------------------------

    @mute_logger("odoo.sql_db")  # the statement PostgreSQL cancels
    def test_search_time_limit(self):
        self.set_endpoint(dci_search_timeout=200)
        slow = self.search_item(
            "expression",
            self.expression({"address.region_code": {"$eq": "CA"}}),
            reference_id="slow",
        )
        quick = self.search_item(
            "idtype-value", {"type": "UIN", "value": "ZB-UIN-001"}, reference_id="quick"
        )
        envelope = self.search_envelope(slow, quick)
        with self.other_transaction() as other:
            # another transaction holds the table the slow item reads: its statement waits
            other.execute("LOCK TABLE res_country_state IN ACCESS EXCLUSIVE MODE NOWAIT")
            release = threading.Timer(10, other.rollback)  # never hang the suite
            release.start()
            try:
                response = self.post(SYNC, envelope)
            finally:
                release.cancel()
        body = self.assertSpecResponse(SYNC, response)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(body["header"]["status"], "succ")
        slow_item, quick_item = body["message"]["search_response"]
        self.assertEqual(
            (slow_item["status"], slow_item["status_reason_code"]),
            ("rjct", "rjct.search.too_many_records_found"),
        )
        self.assertIn("did not finish within 200 ms", slow_item["status_reason_message"])
        self.assertEqual(quick_item["status"], "succ")
        self.assertEqual(self.given_names(quick_item), ["Alice"])
        # the transaction row is written as for any answered search
        txn = self.env["spp.dci.transaction"].search(
            [("message_id", "=", envelope["header"]["message_id"])]
        )
        self.assertEqual((txn.state, txn.mode, txn.item_count), ("done", "sync", 2))
        self.assertEqual(txn.reference_ids, ["slow", "quick"])
        self.assertEqual(len(txn.response_digest), 64)

    def test_identifier_lookup_statements(self):
        """An idtype-value item: its savepoint and time limit go with its one SELECT."""
        statements = []
        execute = Cursor.execute

        def spy(cursor, query, params=None, log_exceptions=None):
            statements.append(str(getattr(query, "code", query)))
            return execute(cursor, query, params, log_exceptions)

        item = self.search_item("idtype-value", {"type": "UIN", "value": "ZB-UIN-001"})
        envelope = self.search_envelope(item)
        with patch.object(Cursor, "execute", spy):
            response = self.post(SYNC, envelope)
        body = self.assertSpecResponse(SYNC, response)
        self.assertEqual(self.given_names(body["message"]["search_response"][0]), ["Alice"])
        lookups = [s for s in statements if "spp_registry_id" in s]
        self.assertEqual(len(lookups), 1, statements)
        self.assertRegex(lookups[0], r"^SAVEPOINT \S+; SET LOCAL statement_timeout = ")
        self.assertFalse(
            [s for s in statements if re.search(r"dci_search_\d", s) and s not in lookups]
        )
        inserts = [s for s in statements if "INSERT INTO spp_dci_transaction" in s]
        self.assertEqual(len(inserts), 1)

    @mute_logger("odoo.sql_db")  # the statement PostgreSQL cancels
    def test_time_limit_sent_with_the_first_statement(self):
        """What the identifier lookup relies on: the savepoint and timeout in front of its
        SELECT (one round trip) cancel it in time; the next items go on."""
        cr = self.env.cr
        limit = TimeLimit(self.env, 100)
        with self.assertRaises(DCIError) as caught, limit:
            cr.execute(search_limits.first_statement(cr, SQL("SELECT pg_sleep(2)")))
        self.assertEqual(str(caught.exception.code), "rjct.search.too_many_records_found")
        with limit:  # the next item: its own savepoint and timeout, the cursor intact
            cr.execute(search_limits.first_statement(cr, SQL("SELECT 41 + 1")))
            self.assertEqual(cr.fetchone(), (42,))
            # later statements of the item run as they are, under the same limit
            self.assertEqual(search_limits.first_statement(cr, SQL("SELECT 1")).code, "SELECT 1")
        with self.assertRaises(DCIError), limit:  # refused before any statement
            raise DCIError(SearchStatusReasonCode.SEARCH_CRITERIA_INVALID, "nothing was sent")
        with limit:  # an ORM search: the savepoint and timeout alone, right before it
            search_limits.begin(cr)
            cr.execute("SHOW statement_timeout")
            self.assertEqual(cr.fetchone(), ("100ms",))
        self.assertEqual(search_limits.first_statement(cr, SQL("SELECT 1")).code, "SELECT 1")

    # --- indexes ------------------------------------------------------------------------

    def leading_columns(self, table):
        """``{column}`` that lead an index of ``table``, and the column lists of them all."""
        self.env.cr.execute("SELECT indexdef FROM pg_indexes WHERE tablename = %s", (table,))
        lists = []
        for (definition,) in self.env.cr.fetchall():
            columns = re.search(r"USING \w+ \((.*?)\)(?: WHERE|$)", definition).group(1)
            lists.append([c.strip().strip('"') for c in columns.split(",")])
        return {columns[0] for columns in lists}, lists

    def test_every_searchable_attribute_has_an_index(self):
        impl = self.env["spp.dci.registry"]._dci_implementation("social")
        checked = set()
        for spec in impl._dci_record_types().values():
            attributes = spec.attributes
            for name in attributes.names():
                attribute = attributes.get(name)
                model = self.env[spec.model]
                *relations, column = attribute.field.split(".")
                for relation in relations:  # a many2one: its column, then the comodel's
                    field = model._fields[relation]
                    self.assertEqual(field.type, "many2one", attribute.field)
                    checked.add((model._table, relation))
                    model = self.env[field.comodel_name]
                self.assertTrue(model._fields[column].store, attribute.field)
                checked.add((model._table, column))
            identifier = attributes.identifier
            field = self.env[spec.model]._fields[identifier.path]
            lines = self.env[field.comodel_name]
            checked.add((lines._table, field.inverse_name))
            _leading, lists = self.leading_columns(lines._table)
            self.assertIn(
                [identifier.type_field, identifier.value_field],
                [columns[:2] for columns in lists],
                "idtype-value is served by an index on (type, value)",
            )
        self.assertGreater(len(checked), 15)
        missing = sorted(
            (table, column)
            for table, column in checked
            if column not in self.leading_columns(table)[0]
        )
        self.assertEqual(missing, [], "searchable columns without an index")
