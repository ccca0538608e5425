# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
"""Disability registrations the DR notifies, applied by ``_dci_handle_records``."""

import logging

from odoo.tests import tagged

from ..mapping import APPROVED_FILTER, REG_RECORD_TYPE
from .common import DRCallbackCase
from .dr_stub import pwd_person

DR_LOGGER = "odoo.addons.spp_dci_client_dr.models.spp_dci_data_source"


@tagged("post_install", "-at_install")
class TestDRCallbacks(DRCallbackCase):
    def subscribe(self):
        self.source.action_dr_subscribe()
        criteria = self.stub.pending[0]["request"]["message"]["subscribe_request"][0][
            "subscribe_criteria"
        ]
        self.deliver()
        self.perform_stored_jobs()
        return criteria

    def test_notify_registrations(self):
        criteria = self.subscribe()
        self.assertEqual(criteria["reg_event_type"], "REGISTER")
        self.assertEqual(
            (criteria["filter_type"], criteria["filter"]), ("expression", APPROVED_FILTER)
        )
        self.assertEqual(criteria["notify_record_type"], REG_RECORD_TYPE)
        self.assertEqual(self.source.subscription_ids.state, "active")

        events = [
            pwd_person("UIN-D2", status="Approved", level="3", infos=[("HEAR_SS", "3")]),
            pwd_person("UIN-D5", status="Approved", infos=[("COG_SS", "4")]),
            pwd_person("UIN-D9", status="Approved"),  # nobody here
            pwd_person("UIN-D3", status="Unknown"),  # invalid code
        ]
        response = self.notify(events, reg_event_type="REGISTER")
        self.assertEqual(response.status_code, 200, response.text)
        self.assertFalse(self.d2.dr_checked_at, "applied by the job, not on receipt")
        # (Odoo names level 25 "INFO": ask for logging.INFO itself)
        with self.assertLogs(DR_LOGGER, logging.INFO) as logs:
            self.perform_stored_jobs()
        self.assertIn("2 registrant(s) updated from the DR, 2 skipped", logs.output[-1])
        self.assertIn("nobody in the registry holds its identifiers", logs.output[-1])
        self.assertNotIn("UIN-D9", logs.output[-1], "no identifier in the server log")
        self.assertIn("disability_status 'Unknown'", logs.output[-1])
        self.assertRecordValues(
            self.d2 | self.d5,
            [
                {
                    "dr_is_disabled": True,
                    "dr_disability_status": "0",
                    "dr_disability_level": "3",
                    "dr_functional_severity": "3",
                    "dr_data_source_id": self.source.id,
                },
                {
                    "dr_is_disabled": True,
                    "dr_disability_status": "0",
                    "dr_disability_level": False,
                    "dr_functional_severity": "4",
                    "dr_data_source_id": self.source.id,
                },
            ],
        )
        self.assertFalse(self.d3.dr_checked_at)
        lines = self.d2.dr_disability_info_ids
        # the same notification again: nothing rewritten
        self.notify(events[:2], reg_event_type="REGISTER")
        self.perform_stored_jobs()
        self.assertEqual(self.d2.dr_disability_info_ids, lines)
        self.assertStubSawValidRequests(self.stub)

    def test_forged_notify(self):
        self.subscribe()
        response = self.notify(
            [pwd_person("UIN-D2", status="Approved")], reg_event_type="REGISTER", mode="forged"
        )
        self.assertEqual(response.status_code, 401, response.text)
        self.perform_stored_jobs()
        self.assertFalse(self.d2.dr_is_disabled)
        self.assertFalse(self.d2.dr_checked_at)
