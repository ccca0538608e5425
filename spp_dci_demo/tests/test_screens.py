# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
"""Screens of the whole suite (every addon is installed with the demo)."""

from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestScreens(TransactionCase):
    def suite_records(self, model):
        data = self.env["ir.model.data"].search(
            [("model", "=", model), ("module", "=like", "spp_dci%")]
        )
        return self.env[model].browse(data.mapped("res_id")).exists()

    def test_every_list_action_has_empty_state_help(self):
        actions = self.suite_records("ir.actions.act_window").filtered(
            lambda a: "list" in (a.view_mode or "").split(",") and a.target != "new"
        )
        self.assertGreaterEqual(len(actions), 15)
        for action in actions:
            self.assertIn(
                "o_view_nocontent_smiling_face", action.help or "", f"{action.xml_id}: no help"
            )
