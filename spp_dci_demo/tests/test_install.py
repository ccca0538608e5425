# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
from urllib.parse import urlsplit

from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestInstall(TransactionCase):
    """The demo data: what `make run` gives an administrator."""

    def demo(self, xmlid):
        return self.env.ref(f"spp_dci_demo.{xmlid}")

    def test_module_installed(self):
        module = self.env["ir.module.module"].search([("name", "=", "spp_dci_demo")])
        self.assertEqual(module.state, "installed")
        self.assertTrue(module.demo, "the demo data is loaded")

    def test_households(self):
        groups = self.env["res.partner"].search(
            [("is_group", "=", True), ("name", "in", ("Santos household", "Reyes household"))]
        )
        self.assertEqual(len(groups), 2)
        santos = self.demo("demo_group_santos")
        members = santos.group_membership_ids
        self.assertEqual(
            sorted(members.individual_id.mapped("given_name")), ["Ana", "Jose", "Maria", "Paolo"]
        )
        head = members.filtered(lambda m: m.role == "head").individual_id
        self.assertEqual(
            (head.name, head.sex, str(head.birthdate)), ("Maria Luz Santos", "female", "1984-03-12")
        )
        self.assertEqual(head.registry_id_ids.mapped("value"), ["DEMO-UIN-0001"])
        self.assertEqual(head.country_id.code, "PH")
        self.assertTrue(head.phone and head.city)
        self.assertEqual(santos.registry_id_ids.id_type_id.code, "HHID")
        child = self.demo("demo_ana_santos")
        self.assertEqual(child.registry_id_ids.id_type_id.code, "BRN")

    def test_senders(self):
        mis = self.demo("demo_sender_mis")
        self.assertEqual(mis.client_id, "demo-mis")
        self.assertEqual(mis.signature_policy, "required")
        self.assertTrue(mis._dci_check_secret("demo-mis-DEMO-ONLY-secret"))
        # only a hash is stored
        self.assertNotIn("demo-mis-DEMO-ONLY-secret", mis.sudo().client_secret_hash)
        self.assertFalse(mis.key_ids, "the MIS publishes its keys itself (JWKS)")
        sender = self.demo("demo_sender_openspp")
        self.assertTrue(sender.has_secret)
        signer = self.env["spp.dci.signing.key"]._dci_signer()
        self.assertIn(signer.kid, sender.key_ids.mapped("kid"), "our key is pinned")

    def test_social_loop_points_at_this_server(self):
        # the HTTP port of the installation: make test serves the tests on it, pytest-odoo
        # --odoo-http on another one (the HTTP tests follow it, tests/common.py)
        source = self.demo("demo_source_social")
        url = urlsplit(source.base_url)
        self.assertEqual((url.scheme, url.hostname, url.path), ("http", "127.0.0.1", "/dci/social"))
        self.assertTrue(url.port)
        self.assertEqual(source.callback_base_url, source.base_url)
        self.assertEqual(source.registry_sender_id, "openspp")
        self.assertTrue(source.has_oauth2_client_secret)
        self.assertFalse(source.oauth2_client_secret, "write-only: the form never shows it")
        signer = self.env["spp.dci.signing.key"]._dci_signer()
        self.assertIn(signer.kid, source.key_ids.mapped("kid"))

    def test_demo_registries_are_served(self):
        for xmlid, registry_type, model in (
            ("fastapi_endpoint_dci_crvs_demo", "crvs", "spp.dci.registry.crvs.demo"),
            ("fastapi_endpoint_dci_ibr_demo", "ibr", "spp.dci.registry.ibr.demo"),
            ("fastapi_endpoint_dci_dr_demo", "dr", "spp.dci.registry.dr.demo"),
        ):
            endpoint = self.demo(xmlid)
            self.assertEqual(endpoint.dci_registry_type, registry_type)
            self.assertEqual(endpoint.dci_implementation, model)
        people = self.env["spp.dci.demo.person"]
        # the six hand-made CRVS people, beside the generated population (test_population)
        crvs = people.search([("registry_type", "=", "crvs")])
        hand_made = self.env["ir.model.data"].search_count(
            [("model", "=", people._name), ("res_id", "in", crvs.ids)]
        )
        self.assertEqual(hand_made, 6)
        self.assertEqual(
            self.demo("demo_ibr_maria_santos").enrolment_ids.programme_identifier, "CCT-01"
        )
        self.assertEqual(self.demo("demo_dr_miguel_reyes").disability_status, "0")


@tagged("post_install", "-at_install")
class TestDemoMenus(TransactionCase):
    def test_admin_sees_reconnect_demo_loops(self):
        """DCI > Demo > Reconnect Demo Loops: its action runs on the abstract spp.dci.demo."""
        admin = self.env.ref("base.user_admin")
        menu = self.env.ref("spp_dci_demo.menu_dci_demo_connect_loops")
        visible = self.env["ir.ui.menu"].with_user(admin)._visible_menu_ids()
        self.assertIn(menu.id, visible)
        self.assertIn(self.env.ref("spp_dci_demo.menu_dci_demo").id, visible)
        # and the web client's menu tree (what the browser draws) holds it
        menus = self.env["ir.ui.menu"].with_user(admin).load_web_menus(False)
        self.assertIn(menu.id, menus)

    def test_case_worker_does_not_see_it(self):
        worker = self.env["res.users"].create(
            {
                "name": "Demo case worker",
                "login": "demo-case-worker-menus",
                "group_ids": [(6, 0, [self.env.ref("spp_dci.group_dci_user").id])],
            }
        )
        menu = self.env.ref("spp_dci_demo.menu_dci_demo_connect_loops")
        self.assertNotIn(menu.id, self.env["ir.ui.menu"].with_user(worker)._visible_menu_ids())
