# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
from odoo.tests import TransactionCase, tagged
from odoo.tools import config


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
        root = f"http://127.0.0.1:{config['http_port']}/dci/social"
        source = self.demo("demo_source_social")
        self.assertEqual((source.base_url, source.callback_base_url), (root, root))
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
        self.assertEqual(people.search_count([("registry_type", "=", "crvs")]), 6)
        self.assertEqual(
            self.demo("demo_ibr_maria_santos").enrolment_ids.programme_identifier, "CCT-01"
        )
        self.assertEqual(self.demo("demo_dr_miguel_reyes").disability_status, "0")
