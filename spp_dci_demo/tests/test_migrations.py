# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
from odoo.modules.module import load_script
from odoo.tests import TransactionCase, tagged
from odoo.tools.misc import file_path


@tagged("post_install", "-at_install")
class TestDemoPeerMigration(TransactionCase):
    def test_upgraded_demo_peers_get_the_xml_ids_of_the_demo_file(self):
        """pre-migrate 19.0.1.5.0: the peers the upgrade made are the demo file's records."""
        Data = self.env["ir.model.data"]
        peers = {name: self.env.ref(f"spp_dci_demo.{name}") for name in ("demo_peer_mis",)}
        # as before the upgrade: peers exist (made by the migration), the XML ids not yet
        Data.search([("module", "=", "spp_dci_demo"), ("model", "=", "spp.dci.peer")]).unlink()
        self.env.registry.clear_cache()
        script = load_script(
            file_path("spp_dci_demo/migrations/19.0.1.5.0/pre-migrate.py"), "pre-migrate"
        )
        script.migrate(self.env.cr, "19.0.0.2.0")
        script.migrate(self.env.cr, "19.0.0.2.0")  # run twice: nothing to do
        self.env.invalidate_all()
        self.env.registry.clear_cache()
        rows = Data.search([("module", "=", "spp_dci_demo"), ("model", "=", "spp.dci.peer")])
        self.assertEqual(len(rows), 5)
        self.assertTrue(all(rows.mapped("noupdate")), "the demo file leaves them as they are")
        self.assertEqual(self.env.ref("spp_dci_demo.demo_peer_mis"), peers["demo_peer_mis"])
        self.assertEqual(self.env.ref("spp_dci_demo.demo_peer_openspp").dci_id, "openspp")
