# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
from odoo import fields, models

from ..mapping import DISABILITY_LEVELS, DISABILITY_STATUSES, FUNCTIONAL_SEVERITIES

_DCI_USER = "spp_dci.group_dci_user"


class ResPartner(models.Model):
    """What the disability registry says about a registrant, for targeting.

    Written by the DR check and by the DR's callbacks only (readonly here);
    indexed, because programmes filter on them.
    """

    _inherit = "res.partner"

    dr_registered = fields.Boolean(
        string="In the Disability Registry",
        readonly=True,
        index=True,
        groups=_DCI_USER,
        help="The disability registry knows this person.",
        tracking=True,
    )
    dr_is_disabled = fields.Boolean(
        string="Has Disability",
        readonly=True,
        index=True,
        groups=_DCI_USER,
        help="As the disability registry says (is_disabled, else an approved disability status).",
        tracking=True,
    )
    dr_disability_status = fields.Selection(
        DISABILITY_STATUSES,
        string="Disability Status",
        readonly=True,
        index=True,
        groups=_DCI_USER,
        help="DR DisabilityStatusEnum: Approved (after assessment), Pending (still under "
        "assessment), Expired (needs reassessment).",
        tracking=True,
    )
    dr_disability_level = fields.Selection(
        DISABILITY_LEVELS,
        string="Disability Level",
        readonly=True,
        index=True,
        groups=_DCI_USER,
        help="DR DisabilityLevelEnum (disability_status_level).",
        tracking=True,
    )
    dr_functional_severity = fields.Selection(
        FUNCTIONAL_SEVERITIES,
        string="Highest Functional Severity",
        readonly=True,
        index=True,
        groups=_DCI_USER,
        help="The highest FunctionalSeverityEnum of the registrant's functional limitations.",
        tracking=True,
    )
    dr_disability_info_ids = fields.One2many(
        "spp.dci.disability.info",
        "partner_id",
        string="Disabilities",
        readonly=True,
        groups=_DCI_USER,
    )
    dr_checked_at = fields.Datetime(string="Disability Checked At", readonly=True, groups=_DCI_USER)
    dr_data_source_id = fields.Many2one(
        "spp.dci.data.source",
        string="Disability Registry",
        readonly=True,
        groups=_DCI_USER,
        ondelete="set null",
    )

    def action_dr_check_disability(self):
        """Ask the disability registry about these registrants.

        What fits one request is checked at once; more runs in the background,
        one queue job per batch (the check run's form shows the progress).
        """
        source = self.env["spp.dci.data.source"]._dr_default_source()
        return source._dci_check_notification(
            self, self.env._("Disability check"), source.dr_batch_size
        )
