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

    def test_overview_renders_with_every_addon(self):
        """The overview form of the whole suite: every addon's part reads for an officer."""
        officer = self.env["res.users"].create(
            {
                "name": "Overview officer",
                "login": "screens-overview-officer",
                "group_ids": [(6, 0, [self.env.ref("spp_dci.group_dci_user").id])],
            }
        )
        overview = self.env.ref("spp_dci_server.dci_overview").with_user(officer)
        views = overview.get_views([(False, "form")])
        view = views["views"]["form"]
        for page in ("data_sources", "crvs_imports", "ibr_checks", "dr_checks", "requests"):
            self.assertIn(f'name="{page}"', view["arch"])
        spec = {
            name: {"fields": {"display_name": {}}}
            if overview._fields[name].type == "many2many"
            else {}
            for name in views["models"][overview._name]["fields"]
        }
        values = overview.web_read(spec)[0]
        demo_sources = self.env["spp.dci.data.source"].search([])
        self.assertEqual({row["id"] for row in values["data_source_ids"]}, set(demo_sources.ids))
