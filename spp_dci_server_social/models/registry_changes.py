"""Registry changes that feed DCI subscriptions (and the group size searched on).

Creating a registrant, changing one of the fields its DCI record is made of, or
creating or changing one of its identifiers is a ``REGISTER`` event for it;
adding a member to a group is a ``NewHouseHoldMember`` event for the group and
for the new member. Which fields count is the registry's own declaration
(``spp.dci.registry.social._dci_serialised_fields``, the fields the serializer
reads): writes to anything else (``ibr_checked_at``, ``dr_checked_at``,
chatter, bookkeeping) are not changes of the registry and are not notified.
The subscription side (collecting per transaction, matching, batching,
delivery) is generic, in spp_dci_server
(``spp.dci.subscription._dci_on_registry_change``).
"""

from odoo import api, fields, models

REGISTER = "REGISTER"
NEW_MEMBER = "NewHouseHoldMember"


def _notify(env, record_ids, event):
    if record_ids:
        env["spp.dci.subscription"]._dci_on_registry_change("res.partner", list(record_ids), event)


def _is_registry_change(env, model_name, vals):
    serialised = env["spp.dci.registry.social"]._dci_serialised_fields(model_name)
    return not serialised.isdisjoint(vals)


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
        if _is_registry_change(self.env, self._name, vals):
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
        if _is_registry_change(self.env, self._name, vals):
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
