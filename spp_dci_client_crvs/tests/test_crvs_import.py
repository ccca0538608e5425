# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
"""Import births and deaths from an independent CRVS stub, over real HTTP."""

import logging
from datetime import date
from unittest.mock import patch

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.modules.module import load_script
from odoo.sql_db import Cursor
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger
from odoo.tools.misc import file_path

from ..importer import CRVSUpsert
from ..mapping import REG_EVENT_TYPES, REG_RECORD_TYPE
from .common import BIRTHS, DEATHS, FEBRUARY, JANUARY, CRVSHttpCase
from .crvs_stub import crvs_person

IMPORT_LOGGER = "odoo.addons.spp_dci_client_crvs.models.spp_dci_data_source"


@tagged("post_install", "-at_install")
class TestCRVSImport(CRVSHttpCase):
    def test_import_births(self):
        run = self.import_run("birth", JANUARY)
        self.assertEqual(run.state, "done", run.error)
        self.assertEqual(
            (run.origin, run.event_type, run.user_id), ("search", "birth", self.case_worker)
        )
        # 8 records in January (not the one of December), 3 per page: 3 requests
        self.assertEqual((run.record_count, run.page_count), (8, 3))
        self.assertCounts(run, created=3, updated=1, skipped=4)

        amina = self.holder("BRN", "BRN-1001")
        self.assertEqual(amina, self.holder("UIN", "UIN-2001"))
        self.assertRecordValues(
            amina,
            [
                {
                    "is_registrant": True,
                    "is_group": False,
                    "name": "Amina Kadi Diallo",
                    "given_name": "Amina",
                    "addl_name": "Kadi",
                    "family_name": "Diallo",
                    "sex": "female",
                    "birthdate": date(2025, 1, 3),
                    "death_date": False,
                }
            ],
        )
        self.assertEqual(self.holder("BRN", "BRN-1002").name, "Omar Diallo")
        self.assertEqual(self.holder("BRN", "BRN-1009").birthdate, date(2025, 1, 31))
        self.assertFalse(self.holder("BRN", "BRN-0999"), "born before the range")
        # the known person was matched by UIN, renamed as the CRVS spells it, and got the BRN
        self.assertEqual(self.holder("BRN", "BRN-1003"), self.fatu)
        self.assertEqual((self.fatu.given_name, self.fatu.name), ("Fatou", "Fatou Ndiaye"))
        self.assertEqual(self.fatu.birthdate, date(2025, 1, 7))

        skipped = {
            line.identifiers: line.detail for line in run.line_ids if line.outcome == "skipped"
        }
        self.assertIn("SexCategoryEnum", skipped["BRN BRN-1004"])
        self.assertIn("neither a given name nor a surname", skipped["BRN BRN-1005"])
        self.assertIn(
            "no identifier of a type this registry knows (PASSPORT)", skipped["PASSPORT P-1006"]
        )
        self.assertIn(
            "BRN differs: the registry has BRN-9999", skipped["UIN UIN-2007, BRN BRN-1007"]
        )
        for identifiers in ("BRN BRN-1004", "BRN BRN-1005"):
            self.assertFalse(self.holder("BRN", identifiers.split()[1]), "skipped: nothing written")
        self.assertFalse(self.holder("BRN", "BRN-1007"))
        self.assertEqual(
            sorted(self.moussa.registry_id_ids.mapped("value")), ["BRN-9999", "UIN-2007"]
        )
        updated = run.line_ids.filtered(lambda line: line.outcome == "updated")
        self.assertEqual(updated.partner_id, self.fatu)
        # in words, with the values before and after (read by case workers, not developers)
        self.assertEqual(
            updated.detail,
            "given name Fatu → Fatou, birth date (empty) → 2025-01-07, new BRN BRN-1003",
        )

        # what went on the wire: spec-valid, signed, the crvs query forms
        self.assertStubSawValidRequests(self.stub)
        searches = self.searches()
        self.assertEqual(len(searches), 3)
        pages = []
        for body in searches:
            self.assertEqual(body["header"]["action"], "search")
            self.assertEqual(body["header"]["receiver_id"], self.stub.sender_id)
            (item,) = body["message"]["search_request"]
            criteria = item["search_criteria"]
            self.assertEqual(criteria["reg_type"], "ns:org:RegistryType:Civil")
            self.assertEqual(criteria["reg_event_type"], "spdci-common:RegistryEventType:LiveBirth")
            self.assertEqual(criteria["reg_record_type"], REG_RECORD_TYPE)
            self.assertEqual(criteria["query_type"], "predicate")
            self.assertEqual(
                criteria["query"],
                [
                    {
                        "seq_num": 1,
                        "expression1": {
                            "attribute_name": "birth_date",
                            "operator": "ge",
                            "attribute_value": "2025-01-01",
                        },
                        "condition": "and",
                        "expression2": {
                            "attribute_name": "birth_date",
                            "operator": "le",
                            "attribute_value": "2025-01-31",
                        },
                    }
                ],
            )
            pages.append(
                (criteria["pagination"]["page_number"], criteria["pagination"]["page_size"])
            )
        self.assertEqual(pages, [(1, 3), (2, 3), (3, 3)])

    def test_import_twice_changes_nothing(self):
        first = self.import_run("birth", JANUARY)
        self.assertCounts(first, created=3, updated=1, skipped=4)
        self.env.flush_all()
        partners = self.env["res.partner"].search([("is_registrant", "=", True)])
        snapshot = partners.read(["name", "given_name", "sex", "birthdate", "write_date"])
        identifiers = self.env["spp.registry.id"].search([]).read(["partner_id", "value"])

        # (Odoo names level 25 "INFO": ask for logging.INFO itself)
        with self.assertLogs(IMPORT_LOGGER, logging.INFO) as logs:
            second = self.import_run("birth", JANUARY)
        self.assertCounts(second, unchanged=4, skipped=4)
        self.assertIn(
            f"DCI CRVS import {second.id} (search) from National CRVS: 8 record(s): 0 created, "
            "0 updated, 4 unchanged, 4 skipped",
            logs.output[-1],
        )
        self.assertEqual(second.line_ids.mapped("outcome"), ["skipped"] * 4)
        self.assertEqual(self.env["res.partner"].search([("is_registrant", "=", True)]), partners)
        self.assertEqual(
            partners.read(["name", "given_name", "sex", "birthdate", "write_date"]), snapshot
        )
        self.assertEqual(
            self.env["spp.registry.id"].search([]).read(["partner_id", "value"]), identifiers
        )

    def test_import_deaths(self):
        run = self.import_run("death", FEBRUARY)
        self.assertEqual(run.state, "done")
        self.assertCounts(run, updated=1, skipped=1)
        self.assertEqual(self.ibrahima.death_date, date(2025, 2, 10))
        self.assertEqual(self.holder("DRN", "DRN-3001"), self.ibrahima)
        self.assertEqual(self.ibrahima.name, "Ibrahima Sow")
        skipped = run.line_ids.filtered(lambda line: line.outcome == "skipped")
        self.assertEqual(skipped.identifiers, "UIN UIN-2099, DRN DRN-3002")
        self.assertIn("nobody in the registry holds", skipped.detail)
        self.assertFalse(self.holder("UIN", "UIN-2099"), "deaths never create registrants")
        (body,) = self.searches()
        criteria = body["message"]["search_request"][0]["search_criteria"]
        self.assertEqual(criteria["reg_event_type"], "spdci-common:RegistryEventType:Death")
        self.assertEqual(
            [criteria["query"][0][key]["attribute_name"] for key in ("expression1", "expression2")],
            ["death_date", "death_date"],
        )
        self.assertStubSawValidRequests(self.stub)
        # again: nothing changes
        again = self.import_run("death", FEBRUARY)
        self.assertCounts(again, unchanged=1, skipped=1)

    def test_one_identifier_query_per_page(self):
        """Matching is one query on spp_registry_id per page, whatever the page size."""
        run = self.source._crvs_new_run("search", event_type="birth")

        def lookups(records):
            queries = []
            execute = Cursor.execute

            def spy(cursor, query, params=None, log_exceptions=None):
                queries.append(str(getattr(query, "code", query)))
                return execute(cursor, query, params, log_exceptions)

            upsert = CRVSUpsert(self.env(su=True), run)
            self.env.flush_all()
            with patch.object(Cursor, "execute", spy):
                upsert.apply(records, event="birth")
            return [
                q
                for q in queries
                if q.lstrip().upper().startswith("SELECT") and 'FROM "spp_registry_id"' in q
            ]

        small = [crvs_person([("BRN", f"Q-{i}")], given="A", birth="2025-01-01") for i in range(3)]
        large = [
            crvs_person([("BRN", f"R-{i}"), ("UIN", f"RU-{i}")], given="B", birth="2025-01-01")
            for i in range(30)
        ]
        # new people: the lookup only; known people: the lookup + reading what they hold
        self.assertEqual(len(lookups(small)), 1)
        self.assertEqual(len(lookups(large)), 1)
        known_small, known_large = lookups(small), lookups(large)
        self.assertLessEqual(len(known_large), 3, known_large)
        self.assertEqual(len(known_small), len(known_large), "the same for 3 or 30 records")

    def test_registry_answers_garbage(self):
        self.stub.mode = "garbage"
        with mute_logger(IMPORT_LOGGER):
            run = self.import_run("birth", JANUARY)
        self.assertEqual(run.state, "failed")
        self.assertIn("not JSON", run.error)
        self.assertIn("failed, nothing imported", run.summary())
        self.assertNothingImported(run)

    def test_forged_signature(self):
        self.stub.mode = "forged"
        with mute_logger(IMPORT_LOGGER):
            run = self.import_run("birth", JANUARY)
        self.assertEqual(run.state, "failed")
        self.assertIn("Bad signature", run.error)
        self.assertNothingImported(run)

    def test_failure_on_a_later_page_writes_nothing(self):
        self.stub.fail_after = 1  # page 1 is fine, page 2 comes forged
        with mute_logger(IMPORT_LOGGER):
            run = self.import_run("birth", JANUARY)
        self.assertEqual(len(self.searches()), 2)
        self.assertEqual(run.state, "failed")
        self.assertIn("does not match its content", run.error)
        self.assertNothingImported(run)
        self.assertEqual(self.fatu.given_name, "Fatu", "page 1 updated her, rolled back")
        # once the registry is fine again, the import completes
        self.stub.fail_after, self.stub.mode = None, "ok"
        self.assertCounts(self.import_run("birth", JANUARY), created=3, updated=1, skipped=4)

    def assertNothingImported(self, run):
        self.assertEqual(
            (run.record_count, run.page_count, run.created_count, run.updated_count), (0, 0, 0, 0)
        )
        self.assertFalse(run.line_ids)
        for identifier in ("BRN-1001", "BRN-1002", "BRN-1003", "BRN-1009"):
            self.assertFalse(self.holder("BRN", identifier))
        self.assertEqual(self.fatu.name, "Fatu Ndiaye")

    def test_access(self):
        outsider = new_test_user(self.env, login="crvs_outsider", groups="base.group_user")
        with self.assertRaises(AccessError):
            self.source.with_user(outsider)._crvs_import(
                "birth", date(2025, 1, 1), date(2025, 1, 31)
            )
        self.assertFalse(self.stub.requests)
        # a case worker reads the summary, but cannot edit or delete it
        run = self.import_run("birth", JANUARY)
        as_worker = run.with_user(self.case_worker)
        self.assertEqual(as_worker.created_count, 3)
        with self.assertRaises(AccessError):
            as_worker.write({"state": "failed"})
        with self.assertRaises(AccessError):
            as_worker.unlink()

    def test_not_a_crvs(self):
        self.source.registry_type = "social"
        with self.assertRaisesRegex(UserError, "is not a CRVS data source"):
            self.source.action_crvs_import_births()
        with self.assertRaisesRegex(UserError, "is not a CRVS data source"):
            self.source._crvs_import("birth", date(2025, 1, 1), date(2025, 1, 31))
        self.assertFalse(self.stub.requests)

    def test_wizard_refuses_reversed_dates(self):
        with self.assertRaisesRegex(ValidationError, "start date is after the end date"):
            self.run_wizard("birth", ("2025-02-01", "2025-01-01"))
        with self.assertRaisesRegex(UserError, "start date is after the end date"):
            self.source._crvs_import("birth", date(2025, 2, 1), date(2025, 1, 1))
        self.assertFalse(self.stub.requests)

    def test_buttons_open_the_wizard(self):
        action = self.source.with_user(self.case_worker).action_crvs_import_deaths()
        self.assertEqual(action["res_model"], "spp.dci.crvs.import.wizard")
        self.assertEqual(action["context"]["default_event_type"], "death")
        self.assertEqual(REG_EVENT_TYPES["death"], "spdci-common:RegistryEventType:Death")
        self.assertEqual(len(BIRTHS) + len(DEATHS), len(self.stub.records))

    def test_import_leaves_an_audit_trail(self):
        """The import's own chatter says what it did; registrants it changed track the change."""
        self.env.flush_all()
        self.env.cr.flush()  # the registrants were registered before the import
        run = self.import_run("birth", JANUARY)
        self.env.flush_all()
        self.env.cr.flush()
        self.env.invalidate_all()
        self.assertEqual(run.state, "done", run.error)
        [summary] = run.message_ids.filtered(lambda m: "record(s)" in (m.body or ""))
        self.assertIn("3 created, 1 updated, 0 unchanged, 4 skipped", summary.body)
        states = run.message_ids.tracking_value_ids.filtered(lambda t: t.field_id.name == "state")
        self.assertEqual(states.mapped("new_value_char"), ["Done"])
        # the updated registrant: given name Fatu -> Fatou, tracked on its chatter
        tracked = self.fatu.message_ids.tracking_value_ids.filtered(
            lambda t: t.field_id.name == "given_name"
        )
        self.assertEqual((tracked.old_value_char, tracked.new_value_char), ("Fatu", "Fatou"))
        # registrants it created point at it (the registrants' "import origin" group-by)
        amina = self.holder("BRN", "BRN-1001")
        self.assertEqual(amina.crvs_import_id, run)
        self.assertFalse(self.fatu.crvs_import_id, "registered by hand, only updated")
        groups = self.env["res.partner"]._read_group(
            [("crvs_import_id", "=", run.id)], ["crvs_import_id"], ["__count"]
        )
        self.assertEqual(groups, [(run, 3)])

    def test_migration_sets_the_import_origin_of_earlier_imports(self):
        """post-migrate 19.0.1.6.0: registrants created before the field point at their import."""
        run = self.import_run("birth", JANUARY)
        amina = self.holder("BRN", "BRN-1001")
        self.env.flush_all()
        self.env.cr.execute("UPDATE res_partner SET crvs_import_id = NULL")
        script = load_script(
            file_path("spp_dci_client_crvs/migrations/19.0.1.6.0/post-migrate.py"), "post-migrate"
        )
        script.migrate(self.env.cr, "19.0.0.2.0")
        self.env.invalidate_all()
        self.assertEqual(amina.crvs_import_id, run)
        self.assertFalse(self.fatu.crvs_import_id, "updated, not created, by the import")
