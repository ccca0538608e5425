# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
"""Births and deaths that the CRVS calls back with: on-search and notify.

The CRVS stub POSTs its signed callbacks over real HTTP to a DCI endpoint of
this Odoo; the receiver stores them and queues a job, which the test runs for
real; the job hands the records to ``_dci_handle_records``.
"""

from datetime import date

from odoo.addons.spp_dci.dci import spec
from odoo.tests import tagged

from ..mapping import REG_EVENT_TYPES, REG_RECORD_TYPE
from .common import BIRTHS, DEATHS, JANUARY, CRVSCallbackCase

LIVE_BIRTH = REG_EVENT_TYPES["birth"]
DEATH = REG_EVENT_TYPES["death"]


@tagged("post_install", "-at_install")
class TestCRVSCallbacks(CRVSCallbackCase):
    def subscribe(self, event):
        action = getattr(self.source, f"action_crvs_subscribe_{event}s")()
        self.assertEqual(action["params"]["type"], "success")
        request = self.stub.pending[0]["request"]
        self.deliver()
        self.perform_stored_jobs()
        return request

    def test_subscribe_and_notify(self):
        request = self.subscribe("birth")
        (item,) = request["message"]["subscribe_request"]
        criteria = item["subscribe_criteria"]
        self.assertEqual(criteria["reg_event_type"], LIVE_BIRTH)
        self.assertEqual(criteria["reg_type"], "ns:org:RegistryType:Civil")
        self.assertEqual(criteria["filter_type"], "predicate")
        self.assertEqual(criteria["filter"][0]["expression1"]["attribute_name"], "birth_date")
        self.assertEqual(criteria["notify_record_type"], REG_RECORD_TYPE)
        subscription = self.source.subscription_ids
        self.assertEqual((subscription.state, subscription.reg_event_type), ("active", LIVE_BIRTH))
        self.subscribe("death")
        self.assertEqual(len(self.source.subscription_ids), 2)

        # three births in one notify (one event each), then a death
        response = self.notify(BIRTHS[:3], reg_event_type=LIVE_BIRTH)
        self.assertEqual(response.status_code, 200, response.text)
        spec.validate_response("crvs", "/registry/notify", response.json())
        self.assertEqual(self.notify(DEATHS[:1], reg_event_type=DEATH).status_code, 200)
        self.assertFalse(self.source.crvs_import_ids, "nothing is applied before the jobs run")
        self.perform_stored_jobs()

        births, deaths = self.source.crvs_import_ids.sorted("id")
        self.assertEqual(births.origin, "notify")
        self.assertFalse(births.transaction_id)
        self.assertCounts(births, created=2, updated=1)
        self.assertCounts(deaths, updated=1)
        self.assertEqual(self.holder("BRN", "BRN-1001").name, "Amina Kadi Diallo")
        self.assertEqual(self.holder("BRN", "BRN-1003"), self.fatu)
        self.assertEqual(self.ibrahima.death_date, date(2025, 2, 10))
        self.assertEqual(self.holder("DRN", "DRN-3001"), self.ibrahima)

        # the same events notified again change nothing
        self.notify(BIRTHS[:3], reg_event_type=LIVE_BIRTH)
        self.notify(DEATHS[:1], reg_event_type=DEATH)
        self.perform_stored_jobs()
        births_again, deaths_again = self.source.crvs_import_ids.sorted("id")[2:]
        self.assertCounts(births_again, unchanged=3)
        self.assertCounts(deaths_again, unchanged=1)
        self.assertStubSawValidRequests(self.stub)

    def test_forged_notify_writes_nothing(self):
        self.subscribe("birth")
        response = self.notify(BIRTHS[:2], reg_event_type=LIVE_BIRTH, mode="forged")
        self.assertEqual(response.status_code, 401, response.text)
        self.assertEqual(response.json()["errors"][0]["code"], "err.signature.invalid")
        self.perform_stored_jobs()
        self.assertFalse(self.source.crvs_import_ids)
        self.assertFalse(self.holder("BRN", "BRN-1001"))

    def test_asynchronous_search(self):
        action = self.run_wizard("birth", JANUARY, mode="callback")
        self.assertEqual(action["tag"], "display_notification")
        (pending,) = self.stub.pending
        self.assertEqual(pending["path"], "/registry/search")
        criteria = pending["request"]["message"]["search_request"][0]["search_criteria"]
        self.assertEqual(
            (criteria["query_type"], criteria["reg_event_type"]), ("predicate", LIVE_BIRTH)
        )
        self.assertEqual(
            pending["request"]["header"]["sender_uri"],
            self.base_url() + "/dci/test-crvs-client/registry/on-search",
        )
        transaction = self.env["spp.dci.client.transaction"].search(
            [("data_source_id", "=", self.source.id)]
        )
        self.assertEqual((transaction.state, transaction.user_id), ("pending", self.case_worker))

        self.deliver()
        self.assertEqual(transaction.state, "done")
        self.perform_stored_jobs()
        run = self.source.crvs_import_ids
        self.assertEqual(
            (run.origin, run.transaction_id, run.state), ("on-search", transaction, "done")
        )
        self.assertEqual(run.user_id, self.case_worker, "applied as the user who asked")
        self.assertCounts(run, created=3, updated=1, skipped=4)
        self.assertEqual(self.holder("BRN", "BRN-1002").name, "Omar Diallo")
        self.assertStubSawValidRequests(self.stub)
