# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..models.spp_dci_crvs_import import EVENT_SELECTION


class SppDciCrvsImportWizard(models.TransientModel):
    """Import births or deaths registered in a date range."""

    _name = "spp.dci.crvs.import.wizard"
    _description = "Import from a CRVS"

    data_source_id = fields.Many2one(
        "spp.dci.data.source",
        string="CRVS",
        required=True,
        domain=[("registry_type", "=", "crvs")],
        default=lambda self: self.env["spp.dci.data.source"].search(
            [("registry_type", "=", "crvs")], limit=1
        ),
    )
    event_type = fields.Selection(EVENT_SELECTION, string="Import", required=True, default="birth")
    date_from = fields.Date(
        string="From",
        required=True,
        default=lambda self: fields.Date.context_today(self) - timedelta(days=30),
    )
    date_to = fields.Date(
        string="To", required=True, default=lambda self: fields.Date.context_today(self)
    )
    mode = fields.Selection(
        [
            ("background", "In the background (one queue job per page)"),
            ("now", "Now (wait for the result; small ranges)"),
            ("callback", "Asynchronous search (the CRVS calls back)"),
        ],
        required=True,
        default="background",
    )

    @api.constrains("date_from", "date_to")
    def _check_dates(self):
        for wizard in self:
            if wizard.date_from > wizard.date_to:
                raise ValidationError(self.env._("The start date is after the end date."))

    def action_import(self):
        self.ensure_one()
        source = self.data_source_id
        if self.mode == "callback":
            sent = source._crvs_import_async(self.event_type, self.date_from, self.date_to)
            return self._notify(
                self.env._("Search sent"),
                self.env._(
                    "The CRVS acknowledged (%(ack)s); its records are imported when it "
                    "calls back (DCI > Client > CRVS Imports).",
                    ack=sent["ack_status"] or "pending",  # None: ACK lost, reconciled
                ),
            )
        if self.mode == "background":
            run = source._crvs_import_start(self.event_type, self.date_from, self.date_to)
        else:
            run = source._crvs_import(self.event_type, self.date_from, self.date_to)
        # the run's form: its progress (pages, counts, rate, ETA) while the page jobs run
        return {
            "type": "ir.actions.act_window",
            "res_model": "spp.dci.crvs.import",
            "res_id": run.id,
            "view_mode": "form",
            "target": "current",
        }

    def _notify(self, title, message):
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": title,
                "message": message,
                "type": "success",
                "next": {"type": "ir.actions.act_window_close"},
            },
        }
