# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
"""Outbound, CRVS / IBR / DR: the client buttons against the demo registries of this Odoo.

The demo data sources call /dci/crvs, /dci/ibr and /dci/dr of this same
server over HTTP (OAuth2, signed both ways); the demo registry implementations
answer from the demo registry tables. The tests press the buttons a case
worker presses and check what they change in the social registry.
"""

from datetime import timedelta

from odoo import fields
from odoo.addons.queue_job.tests.common import trap_jobs
from odoo.tests import tagged
from odoo.tools import config

from .common import DemoCase


def registrant_with(env, id_type, value):
    return (
        env["spp.registry.id"]
        .search([("id_type_id.code", "=", id_type), ("value", "=", value)])
        .partner_id
    )


@tagged("post_install", "-at_install")
class TestDemoRegistryLoops(DemoCase):
    def test_loops_point_at_this_server(self):
        base = f"http://127.0.0.1:{config['http_port']}"
        signer = self.env["spp.dci.signing.key"]._dci_signer()
        for registry in ("crvs", "ibr", "dr"):
            endpoint = self.demo(f"fastapi_endpoint_dci_{registry}_demo")
            self.assertEqual(endpoint.dci_sender_id, f"demo-{registry}")
            source = self.demo(f"demo_source_{registry}")
            root = base + endpoint.root_path
            self.assertEqual((source.base_url, source.callback_base_url), (root, root))
            self.assertEqual(source.registry_sender_id, f"demo-{registry}")
            self.assertTrue(source.has_oauth2_client_secret)
            self.assertIn(signer.kid, source.key_ids.mapped("kid"))
            sender = self.demo(f"demo_sender_{registry}")
            self.assertEqual(sender.client_id, f"demo-{registry}")
            self.assertTrue(sender.has_secret)
            self.assertIn(signer.kid, sender.key_ids.mapped("kid"))
        with self.served():
            for registry in ("crvs", "ibr", "dr"):
                source = self.demo(f"demo_source_{registry}")
                ok, message = source._dci_check_connection()
                self.assertTrue(ok, message)
                self.assertIn(f"signed by demo-{registry} with key {signer.kid}", message)


@tagged("post_install", "-at_install")
class TestDemoCrvs(DemoCase):
    def setUp(self):
        super().setUp()
        self.source = self.demo("demo_source_crvs")
        # the demo data's day: the (UTC) day it was installed, from which its XML dated the
        # recent events (DateTime.today()); not the admin's day (Europe/Brussels), nor the
        # day the test runs (a run may cross midnight after installing)
        self.today = self.demo("demo_crvs_gabriel_santos").create_date.date()

    def import_wizard(self, event, mode="now"):
        """The Import births / deaths button, then its wizard with the default dates."""
        action = self.source.with_user(self.case_worker).action_crvs_import_births()
        wizard = (
            self.env[action["res_model"]]
            .with_user(self.case_worker)
            .with_context(action["context"])
            .create({"event_type": event, "mode": mode})
        )
        self.assertEqual(wizard.data_source_id, self.source)
        # the wizard's dates are the case worker's days (her time zone), not the admin's:
        # near midnight UTC the two may be a day apart
        worker_today = fields.Date.context_today(wizard)
        self.assertEqual(wizard.date_from, worker_today - timedelta(days=30))
        with self.served():
            return wizard.action_import()

    def test_import_births(self):
        action = self.import_wizard("birth")
        run = self.env["spp.dci.crvs.import"].browse(action["res_id"])
        self.assertEqual(run.state, "done", run.error)
        # Gabriel and Tala are new; the unnamed newborn of the Reyes gets her name;
        # three births in the last 30 days, two per page
        self.assertEqual(
            (run.record_count, run.created_count, run.updated_count, run.page_count), (3, 2, 1, 2)
        )
        gabriel = registrant_with(self.env, "BRN", "DEMO-BRN-0101")
        self.assertEqual((gabriel.name, gabriel.sex), ("Gabriel Jose Santos", "male"))
        self.assertEqual(gabriel.birthdate, self.today - timedelta(days=12))
        self.assertTrue(gabriel.is_registrant)
        newborn = self.demo("demo_newborn_reyes")
        self.assertEqual((newborn.name, newborn.sex), ("Jasmine Reyes", "female"))
        self.assertSpecAnswers("crvs", self.source)
        # again: nothing new
        action = self.import_wizard("birth")
        again = self.env["spp.dci.crvs.import"].browse(action["res_id"])
        self.assertEqual((again.created_count, again.unchanged_count), (0, 3))

    def test_background_import_births(self):
        """The wizard's default: one committed page job per page against the demo CRVS."""
        with trap_jobs() as trap:
            action = self.import_wizard("birth", mode="background")
            run = self.env["spp.dci.crvs.import"].browse(action["res_id"])
            self.assertEqual((run.state, run.page_count), ("running", 0))
            ran = self.run_jobs(trap)
        self.assertEqual(ran, ["spp.dci.data.source._crvs_import_page_job"] * 2)
        self.assertEqual(run.state, "done", run.error)
        self.assertEqual(
            (run.record_count, run.created_count, run.updated_count, run.page_count), (3, 2, 1, 2)
        )
        self.assertEqual((run.total_count, run.page_total, run.progress), (3, 2, 100.0))
        # the demo CRVS honours the sort on birth_date: the records came oldest first
        created = run.line_ids.filtered(lambda line: line.outcome == "created").sorted("id")
        born = created.partner_id.mapped("birthdate")
        self.assertEqual(born, sorted(born))
        self.assertSpecAnswers("crvs", self.source)

    def test_import_deaths(self):
        action = self.import_wizard("death")
        run = self.env["spp.dci.crvs.import"].browse(action["res_id"])
        self.assertEqual(run.state, "done", run.error)
        self.assertEqual(
            (run.updated_count, run.skipped_count),
            (1, 1),
            run.line_ids.mapped(lambda line: (line.outcome, line.partner_id.name, line.detail)),
        )
        ernesto = self.demo("demo_ernesto_reyes")
        self.assertEqual(ernesto.death_date, self.today - timedelta(days=8))
        self.assertIn("DEMO-DRN-0201", ernesto.registry_id_ids.mapped("value"))
        skipped = run.line_ids.filtered(lambda line: line.outcome == "skipped")
        self.assertIn("nobody in the registry", skipped.detail)
        self.assertFalse(registrant_with(self.env, "UIN", "DEMO-UIN-0901"))

    def test_import_with_callback(self):
        """Asynchronous search: the demo CRVS calls our receiver back, a job imports."""
        with trap_jobs() as trap:
            self.import_wizard("birth", mode="callback")
            ran = self.run_jobs(trap)
        self.assertIn("spp.dci.inbox._dci_dispatch", ran)
        txn = self.env["spp.dci.client.transaction"].search(
            [("data_source_id", "=", self.source.id)], order="id desc", limit=1
        )
        self.assertEqual((txn.state, txn.record_count), ("done", 3))
        run = self.env["spp.dci.crvs.import"].search(
            [("data_source_id", "=", self.source.id), ("origin", "=", "on-search")]
        )
        self.assertEqual((run.created_count, run.updated_count), (2, 1))
        self.assertTrue(registrant_with(self.env, "BRN", "DEMO-BRN-0102"))


@tagged("post_install", "-at_install")
class TestDemoIbr(DemoCase):
    def test_check_enrolment(self):
        people = (
            self.demo("demo_maria_santos")
            | self.demo("demo_jose_santos")
            | self.demo("demo_rosa_reyes")
            | self.demo("demo_ramon_dela_cruz")
            | self.demo("demo_luis_dela_cruz")
            | self.demo("demo_ana_santos")
        )
        with self.served():
            result = people.with_user(self.case_worker).action_ibr_check_enrolment()
        self.env.invalidate_all()
        message = result["params"]["message"]
        self.assertIn("5 checked: 2 already enrolled, 3 not enrolled.", message)
        self.assertIn("Ana Santos: no identifier of type UIN", message)
        maria = self.demo("demo_maria_santos")
        self.assertTrue(maria.ibr_is_enrolled)
        self.assertEqual(
            maria.ibr_warning, "Already enrolled in Conditional Cash Transfer (CCT-01)"
        )
        self.assertEqual(maria.ibr_data_source_id, self.demo("demo_source_ibr"))
        self.assertTrue(self.demo("demo_rosa_reyes").ibr_is_enrolled)
        jose = self.demo("demo_jose_santos")  # graduated: enrolled before, not now
        self.assertFalse(jose.ibr_is_enrolled)
        self.assertEqual(
            (
                jose.ibr_enrolment_ids.enrolment_status,
                str(jose.ibr_enrolment_ids.status_change_date),
            ),
            ("3", "2020-12-31"),
        )
        self.assertFalse(self.demo("demo_ramon_dela_cruz").ibr_is_enrolled)  # suspended
        self.assertFalse(self.demo("demo_luis_dela_cruz").ibr_enrolment_ids)
        self.assertSpecAnswers("ibr", self.demo("demo_source_ibr"))


@tagged("post_install", "-at_install")
class TestDemoDr(DemoCase):
    def test_check_disability(self):
        people = (
            self.demo("demo_miguel_reyes")
            | self.demo("demo_carmen_dela_cruz")
            | self.demo("demo_maria_santos")
        )
        with self.served():
            result = people.with_user(self.case_worker).action_dr_check_disability()
        self.env.invalidate_all()
        self.assertIn(
            "3 checked: 1 with a disability, 1 pending (still under assessment), 0 without, "
            "1 not in the disability registry.",
            result["params"]["message"],
        )
        miguel = self.demo("demo_miguel_reyes")
        self.assertEqual(
            (
                miguel.dr_registered,
                miguel.dr_is_disabled,
                miguel.dr_disability_status,
                miguel.dr_disability_level,
                miguel.dr_functional_severity,
            ),
            (True, True, "0", "3", "3"),
        )
        # one complete line for the Mobility impairment (type, level, limitation, severity)
        self.assertEqual(
            [
                (
                    line.impairment_type,
                    bool(line.impairment_level),
                    line.limitation_type,
                    line.functional_severity,
                )
                for line in miguel.dr_disability_info_ids
            ],
            [("3", True, "MOB_SS", "3")],
        )
        carmen = self.demo("demo_carmen_dela_cruz")  # pending: registered, not (yet) disabled
        self.assertEqual((carmen.dr_registered, carmen.dr_is_disabled), (True, False))
        maria = self.demo("demo_maria_santos")
        self.assertEqual((maria.dr_registered, maria.dr_is_disabled), (False, False))
        self.assertTrue(maria.dr_checked_at)
        self.assertSpecAnswers("dr", self.demo("demo_source_dr"))
