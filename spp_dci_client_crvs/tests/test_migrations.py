# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
from odoo.modules.module import load_script
from odoo.tests import TransactionCase, tagged
from odoo.tools.misc import file_path


@tagged("post_install", "-at_install")
class TestDeceasedMembershipsMigration(TransactionCase):
    def test_memberships_of_the_deceased_end(self):
        """post-migrate 19.0.1.8.0: deaths recorded before end the open memberships."""
        partners = self.env["res.partner"]
        group = partners.create({"name": "Household", "is_registrant": True, "is_group": True})
        dead = partners.create({"name": "Dead", "is_registrant": True, "death_date": "2024-05-01"})
        alive = partners.create({"name": "Alive", "is_registrant": True})
        memberships = self.env["spp.group.membership"].create(
            [
                {"group_id": group.id, "individual_id": dead.id},
                {"group_id": group.id, "individual_id": alive.id},
            ]
        )
        self.env.flush_all()
        script = load_script(
            file_path("spp_dci_client_crvs/migrations/19.0.1.8.0/post-migrate.py"), "post-migrate"
        )
        script.migrate(self.env.cr, "19.0.0.2.0")
        self.env.invalidate_all()
        self.assertEqual([str(m.end_date) for m in memberships], ["2024-05-01", "False"])
        if "dci_group_size" in group._fields:  # the social registry's group size
            self.assertEqual(group.dci_group_size, 1)
        self.assertTrue(dead.is_deceased)
        script.migrate(self.env.cr, "19.0.0.2.0")  # twice: nothing more
        self.env.invalidate_all()
        self.assertEqual(str(memberships[0].end_date), "2024-05-01")
