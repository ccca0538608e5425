# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
"""The case worker's path in a real browser (headless Chromium): one Odoo tour.

static/tests/tours/case_worker_tour.js opens a generated registrant, checks
the IBR and the disability registry, verifies them with the CRVS and imports
the CRVS births of the last 30 days, waiting at each step for what the screen
shows; the demo registries answer over HTTP from a second Odoo process on this
database (registry_process.py). Afterwards the test reads what the clicks stored.

No Chromium is a failure, not a skip: `make test` must show the tour ran.
scripts/setup.sh installs Debian's chromium when it is missing (as root).
"""

import unittest
from unittest import mock

from odoo.tests import common as odoo_test_common
from odoo.tests import tagged
from odoo.tests.common import _find_executable

from .. import population
from .common import DemoCase
from .registry_process import demo_registries_served_apart

TOUR_UIN = "588982005112"  # the same constant as in the tour
# Odoo gives Chromium 10 s (100 x 0.1 s) to open its devtools port, then skips the
# test; on a busy 2-core machine a start can take longer. 60 s, and no skip.
BROWSER_START_CHECKS = 600


@tagged("post_install", "-at_install")
class TestCaseWorkerTour(DemoCase):
    def assertBrowserAvailable(self):
        try:
            import websocket  # noqa: F401, PLC0415 (Odoo's browser driver needs it)
        except ImportError:
            self.fail("websocket-client is missing: run scripts/setup.sh")
        try:
            _find_executable()
        except unittest.SkipTest:
            self.fail(
                "No Chromium or Chrome found (google-chrome, chromium, chromium-browser in "
                "PATH): the browser tour cannot run. Install it: `apt-get install -y chromium` "
                "(scripts/setup.sh does it when run as root)."
            )

    def test_case_worker_tour(self):
        self.assertBrowserAvailable()
        plan = population.plan()
        # the tour's registrant: in both the demo IBR and DR (fails if the draw changed)
        self.assertEqual(plan.dr[TOUR_UIN]["disability_status"], "0")
        self.assertIn("PWD-CG", [row[0] for row in plan.ibr[TOUR_UIN]])
        person = (
            self.env["spp.registry.id"]
            .search([("id_type_id.code", "=", "UIN"), ("value", "=", TOUR_UIN)])
            .partner_id
        )
        self.assertEqual(person.name, "Danilo Lim")
        imports_before = self.env["spp.dci.crvs.import"].search([])
        with (
            demo_registries_served_apart(self.env),
            mock.patch.object(odoo_test_common, "CHECK_BROWSER_ITERATIONS", BROWSER_START_CHECKS),
        ):
            try:
                self.start_tour(
                    "/odoo/action-spp_dci.registrant_individual_action",
                    "spp_dci_demo_case_worker",
                    login=self.case_worker.login,
                    timeout=180,
                )
            except unittest.SkipTest as skipped:
                self.fail(f"the browser tour did not run: {skipped}")
        self.env.invalidate_all()
        self.assertTrue(person.ibr_is_enrolled)
        self.assertEqual(person.ibr_enrolment_ids.programme_identifier, "PWD-CG")
        self.assertTrue(person.dr_is_disabled)
        self.assertEqual(person.dr_disability_info_ids.impairment_type, "3")
        # Verify with CRVS asked the demo CRVS, which records the person as we do
        verify = self.env["spp.dci.crvs.verify.wizard"].search([("partner_id", "=", person.id)])
        self.assertEqual(verify.mapped("state"), ["same"])
        self.assertEqual(verify.create_uid, self.case_worker)
        run = self.env["spp.dci.crvs.import"].search([]) - imports_before
        self.assertEqual((run.state, run.created_count, run.updated_count), ("done", 2, 1))
        self.assertEqual(run.create_uid, self.case_worker)
