# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import AccessError


class ResPartner(models.Model):
    """Civil status from the CRVS: deceased flag, parents, *Verify with CRVS*, and where a
    registrant came from: the CRVS import that registered it (its birth)."""

    _inherit = "res.partner"

    crvs_import_id = fields.Many2one(
        "spp.dci.crvs.import",
        string="Registered by CRVS Import",
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
        copy=False,
        groups="spp_dci.group_dci_user",
        help="Empty: registered otherwise (by hand, by another import).",
    )

    is_deceased = fields.Boolean(
        string="Deceased",
        compute="_compute_is_deceased",
        store=True,
        index=True,
        help="A death date is recorded (by the CRVS import, Verify with CRVS or by hand).",
    )
    parent1_id = fields.Many2one(
        "res.partner",
        string="Parent 1",
        index="btree_not_null",
        ondelete="set null",
        domain=[("is_registrant", "=", True), ("is_group", "=", False)],
        help="The registrant the CRVS names in parent1_identifier.",
    )
    parent2_id = fields.Many2one(
        "res.partner",
        string="Parent 2",
        index="btree_not_null",
        ondelete="set null",
        domain=[("is_registrant", "=", True), ("is_group", "=", False)],
        help="The registrant the CRVS names in parent2_identifier.",
    )

    @api.depends("death_date")
    def _compute_is_deceased(self):
        for partner in self:
            partner.is_deceased = bool(partner.death_date)

    @api.model
    def _crvs_end_memberships(self, death_dates):
        """End the open group memberships of deceased individuals (one search, a write per date).

        ``death_dates``: ``{partner id: death date}``. A membership ends on the
        death date (its end date); the group's size, counted over memberships
        without an end date, drops. Returns ``{partner id: [group names]}``.
        """
        if not death_dates:
            return {}
        memberships = (
            self.env["spp.group.membership"]
            .sudo()
            .search_fetch(
                [("individual_id", "in", list(death_dates)), ("end_date", "=", False)],
                ["individual_id", "group_id"],
            )
        )
        by_date = defaultdict(lambda: self.env["spp.group.membership"].sudo())
        ended = defaultdict(list)
        for membership in memberships:
            partner_id = membership.individual_id.id
            by_date[death_dates[partner_id]] |= membership
            ended[partner_id].append(membership.group_id.display_name)
        for end_date, rows in by_date.items():
            rows.write({"end_date": end_date})
        return dict(ended)

    def action_dci_verify_crvs(self):
        """Look this registrant up in the CRVS and show where it differs (a wizard)."""
        self.ensure_one()
        if not self.env.user.has_group("spp_dci.group_dci_user"):
            raise AccessError(self.env._("Only DCI users may verify registrants with a CRVS."))
        wizard = self.env["spp.dci.crvs.verify.wizard"].create({"partner_id": self.id})
        wizard._lookup()
        return wizard._action()
