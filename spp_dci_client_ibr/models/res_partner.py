# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
from odoo import Command, fields, models

from .. import mapping

_DCI_USER = "spp_dci.group_dci_user"


class ResPartner(models.Model):
    """Enrolments an integrated beneficiary registry (IBR) reports for a registrant."""

    _inherit = "res.partner"

    ibr_enrolment_ids = fields.One2many(
        "spp.dci.ibr.enrolment", "partner_id", string="IBR Enrolments", groups=_DCI_USER
    )
    ibr_is_enrolled = fields.Boolean(
        string="Enrolled Elsewhere (IBR)",
        readonly=True,
        index=True,
        groups=_DCI_USER,
        help="The IBR reports at least one active enrolment in a programme.",
        tracking=True,
    )
    ibr_warning = fields.Char(string="IBR Warning", readonly=True, groups=_DCI_USER, tracking=True)
    ibr_checked_at = fields.Datetime(string="IBR Checked At", readonly=True, groups=_DCI_USER)
    ibr_data_source_id = fields.Many2one(
        "spp.dci.data.source", string="IBR", readonly=True, groups=_DCI_USER, ondelete="set null"
    )

    def action_ibr_check_enrolment(self):
        """Ask the IBR which programmes these registrants are enrolled in.

        What fits one request is checked at once; more runs in the background,
        one queue job per batch (the check run's form shows the progress).
        """
        source = self.env["spp.dci.data.source"]._ibr_default_source()
        return source._dci_check_notification(
            self, self.env._("IBR enrolment check"), source.ibr_batch_size
        )

    def _ibr_apply(self, source, checked_at, enrolments=None, enrolled=None):
        """Store what the IBR said: ``enrolments`` (search) or only ``enrolled`` (yes/no).

        Rows are created, updated or deleted per programme so that a check
        that finds nothing new writes nothing but ``ibr_checked_at``.
        """
        self.ensure_one()
        partner = self.sudo()
        values = {"ibr_checked_at": checked_at, "ibr_data_source_id": source.id}
        current = partner.ibr_enrolment_ids.filtered(lambda e: e.data_source_id == source)
        if enrolments is not None:
            by_programme = {row.programme_identifier: row for row in current}
            commands = []
            for enrolment in enrolments:
                wanted = enrolment.values()
                row = by_programme.pop(enrolment.programme_identifier, None)
                if row is None:
                    commands.append(
                        Command.create(
                            {**wanted, "data_source_id": source.id, "checked_at": checked_at}
                        )
                    )
                    continue
                changes = {k: v for k, v in wanted.items() if (row[k] or False) != (v or False)}
                if changes:
                    commands.append(Command.update(row.id, {**changes, "checked_at": checked_at}))
            commands += [Command.delete(row.id) for row in by_programme.values()]
            if commands:
                values["ibr_enrolment_ids"] = commands
            enrolled = any(e.is_active for e in enrolments)
            warning = mapping.warning(enrolments) or False
        elif enrolled:
            labels = sorted(
                row.programme_name or row.programme_identifier for row in current if row.is_active
            )
            warning = "Already enrolled" + (f" in {', '.join(labels)}" if labels else "")
        else:
            warning = False
            if current:  # the IBR says: enrolled nowhere
                values["ibr_enrolment_ids"] = [Command.delete(row.id) for row in current]
        if (partner.ibr_is_enrolled, partner.ibr_warning or False) != (enrolled, warning):
            values.update(ibr_is_enrolled=enrolled, ibr_warning=warning)
        partner.write(values)
        return warning
