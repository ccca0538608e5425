from odoo.modules.module import load_script
from odoo.tests import Form, TransactionCase, tagged
from odoo.tools.misc import file_path


@tagged("post_install", "-at_install")
class TestRegistrantName(TransactionCase):
    """``name`` (what every list and form shows) follows the name parts DCI answers carry."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.person = cls.env["res.partner"].create(
            {"is_registrant": True, "given_name": "Amina", "family_name": "Diallo"}
        )

    def test_write_of_a_part_recomposes_the_name(self):
        self.person.write({"family_name": "Sow"})
        self.assertEqual(self.person.name, "Amina Sow")
        self.person.write({"given_name": "Awa", "addl_name": "K."})
        self.assertEqual(self.person.name, "Awa K. Sow")
        self.assertEqual(self.person.complete_name, "Awa K. Sow")
        # what a search by name finds
        found = self.env["res.partner"].search([("name", "=", "Awa K. Sow")])
        self.assertEqual(found, self.person)

    def test_name_given_with_the_parts_wins(self):
        self.person.write({"family_name": "Sow", "name": "Amina Sow (Dakar)"})
        self.assertEqual(self.person.name, "Amina Sow (Dakar)")

    def test_groups_and_non_registrants_keep_their_name(self):
        household = self.env["res.partner"].create(
            {"is_registrant": True, "is_group": True, "name": "Diallo household"}
        )
        household.write({"family_name": "Diallo"})
        self.assertEqual(household.name, "Diallo household")
        contact = self.env["res.partner"].create({"name": "A supplier"})
        contact.write({"family_name": "Ltd"})
        self.assertEqual(contact.name, "A supplier")

    def test_form_edit_of_a_part_saves_the_new_name(self):
        view = self.env.ref("spp_dci.registrant_view_form")
        with Form(self.person, view=view) as form:
            form.family_name = "Ba"
        self.assertEqual(self.person.name, "Amina Ba")

    def test_name_change_is_in_the_chatter(self):
        self.env.cr.flush()  # the registrant was created in an earlier transaction
        self.person.write({"family_name": "Sow"})
        self.env.flush_all()
        self.env.cr.flush()  # tracking values are written before the transaction commits
        self.env.invalidate_all()
        tracked = self.person.message_ids.tracking_value_ids.filtered(
            lambda t: t.field_id.name == "family_name"
        )
        self.assertEqual((tracked.old_value_char, tracked.new_value_char), ("Diallo", "Sow"))

    def test_migration_recomposes_stale_names(self):
        """post-migrate 19.0.1.6.0: names left stale by earlier versions are recomposed."""
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE res_partner SET family_name = 'Ndiaye' WHERE id = %s", [self.person.id]
        )
        self.env.invalidate_all()
        self.assertEqual(self.person.name, "Amina Diallo")
        script = load_script(
            file_path("spp_dci/migrations/19.0.1.6.0/post-migrate.py"), "post-migrate"
        )
        script.migrate(self.env.cr, "19.0.0.2.0")
        self.env.invalidate_all()
        self.assertEqual(self.person.name, "Amina Ndiaye")
