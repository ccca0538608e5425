"""Registry changes that feed DCI subscriptions (and the group size searched on).

Creating or changing a registrant, or one of its identifiers, is a
``REGISTER`` event for it; adding a member to a group is a
``NewHouseHoldMember`` event for the group and for the new member. The
subscription side (matching, batching, delivery) is generic, in
spp_dci_server (``spp.dci.subscription._dci_on_registry_change``).
"""

from odoo import api, fields, models

REGISTER = "REGISTER"
NEW_MEMBER = "NewHouseHoldMember"

# Fields whose change is not a registry change (bookkeeping, computed).
IGNORED_FIELDS = {
    "dci_group_size",
    "message_follower_ids",
    "activity_ids",
    "write_date",
    "write_uid",
}


def _notify(env, record_ids, event):
    if record_ids:
        env["spp.dci.subscription"]._dci_on_registry_change("res.partner", list(record_ids), event)


class ResPartner(models.Model):
    _inherit = "res.partner"

    registration_date = fields.Date(index=True)
    dci_group_size = fields.Integer(
        string="Group Size",
        compute="_compute_dci_group_size",
        store=True,
        index=True,
        help="Current members of the group (memberships without an end date); "
        "DCI attribute group_size.",
    )

    @api.depends("group_membership_ids", "group_membership_ids.end_date")
    def _compute_dci_group_size(self):
        for partner in self:
            partner.dci_group_size = (
                len(partner.group_membership_ids.filtered(lambda m: not m.end_date))
                if partner.is_group
                else 0
            )

    @api.model_create_multi
    def create(self, vals_list):
        partners = super().create(vals_list)
        _notify(self.env, partners.filtered("is_registrant").ids, REGISTER)
        return partners

    def write(self, vals):
        res = super().write(vals)
        if set(vals) - IGNORED_FIELDS:
            _notify(self.env, self.filtered("is_registrant").ids, REGISTER)
        return res


class SppRegistryId(models.Model):
    _inherit = "spp.registry.id"

    @api.model_create_multi
    def create(self, vals_list):
        lines = super().create(vals_list)
        _notify(self.env, lines.partner_id.filtered("is_registrant").ids, REGISTER)
        return lines

    def write(self, vals):
        res = super().write(vals)
        _notify(self.env, self.partner_id.filtered("is_registrant").ids, REGISTER)
        return res


class SppGroupMembership(models.Model):
    _inherit = "spp.group.membership"

    @api.model_create_multi
    def create(self, vals_list):
        memberships = super().create(vals_list)
        _notify(self.env, memberships.group_id.ids + memberships.individual_id.ids, NEW_MEMBER)
        return memberships


class SppIdType(models.Model):
    _inherit = "spp.id.type"

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        self.env.registry.clear_cache()
        return records

    def write(self, vals):
        res = super().write(vals)
        self.env.registry.clear_cache()
        return res

    def unlink(self):
        res = super().unlink()
        self.env.registry.clear_cache()
        return res
