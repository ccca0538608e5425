from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestKeyAuditTrail(TransactionCase):
    """Key changes leave an audit trail in the keys' chatter: who, when, which kid."""

    def messages(self, key):
        self.env.flush_all()
        self.env.cr.flush()  # tracking values are written before the transaction commits
        self.env.invalidate_all()
        return key.message_ids.filtered(lambda m: m.message_type in ("comment", "notification"))

    def test_rotation_is_in_both_keys_chatter(self):
        Key = self.env["spp.dci.signing.key"].with_user(self.env.ref("base.user_admin"))
        old = Key.search([("state", "=", "active")])
        new = Key.create({"name": "Next key"})
        self.env.flush_all()
        self.env.cr.flush()  # created in an earlier transaction: its changes are tracked
        new.action_activate()
        admin = self.env.ref("base.user_admin").partner_id

        [activated] = self.messages(new).filtered(lambda m: "Activated" in m.body)
        self.assertIn(new.kid, activated.body)
        self.assertIn(f"replacing {old.name} (kid {old.kid})", activated.body)
        self.assertEqual(activated.author_id, admin)
        [rotated] = self.messages(old).filtered(lambda m: "Rotated" in m.body)
        self.assertIn(new.kid, rotated.body)
        # the state changes are tracked on both
        states = {
            key: key.message_ids.tracking_value_ids.filtered(
                lambda t: t.field_id.name == "state"
            ).mapped(lambda t: (t.old_value_char, t.new_value_char))
            for key in (old, new)
        }
        self.assertIn(("Active", "Retiring"), states[old])
        self.assertIn(("Draft", "Active"), states[new])

        new.action_revoke()
        self.env.flush_all()
        self.env.cr.flush()
        self.env.invalidate_all()
        revoked = new.message_ids.tracking_value_ids.filtered(
            lambda t: t.field_id.name == "state"
        ).mapped(lambda t: (t.old_value_char, t.new_value_char))
        self.assertIn(("Active", "Revoked"), revoked)
