# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
from odoo import fields, models

from ..mapping import BIRTH, DEATH

EVENT_SELECTION = [(BIRTH, "Births"), (DEATH, "Deaths")]
OUTCOMES = [
    ("created", "Created"),
    ("updated", "Updated"),
    ("unchanged", "Unchanged"),
    ("skipped", "Skipped"),
]


class SppDciCrvsImport(models.Model):
    """One import of CRVS records: a manual import, or the records of one callback.

    The summary a case worker reads after *Import births/deaths*, and the trace
    of what each ``on-search`` / ``notify`` from the CRVS changed. Written by
    the system only.
    """

    _name = "spp.dci.crvs.import"
    _description = "DCI CRVS Import"
    _order = "id desc"

    name = fields.Char(compute="_compute_name")
    data_source_id = fields.Many2one(
        "spp.dci.data.source", required=True, readonly=True, index=True, ondelete="cascade"
    )
    origin = fields.Selection(
        [
            ("search", "Import (sync search)"),
            ("on-search", "Search callback"),
            ("notify", "Notification"),
            ("txn-on-status", "Status callback"),
        ],
        required=True,
        readonly=True,
    )
    event_type = fields.Selection(EVENT_SELECTION, readonly=True, help="Empty: read per record.")
    date_from = fields.Date(readonly=True)
    date_to = fields.Date(readonly=True)
    transaction_id = fields.Many2one(
        "spp.dci.client.transaction", readonly=True, ondelete="set null"
    )
    user_id = fields.Many2one("res.users", string="Started By", readonly=True)
    state = fields.Selection(
        [("running", "Running"), ("done", "Done"), ("failed", "Failed")],
        default="running",
        required=True,
        readonly=True,
        index=True,
    )
    error = fields.Text(readonly=True)
    started_at = fields.Datetime(readonly=True)
    finished_at = fields.Datetime(readonly=True)
    page_count = fields.Integer(readonly=True)
    record_count = fields.Integer(readonly=True)
    created_count = fields.Integer(string="Created", readonly=True)
    updated_count = fields.Integer(string="Updated", readonly=True)
    unchanged_count = fields.Integer(string="Unchanged", readonly=True)
    skipped_count = fields.Integer(string="Skipped", readonly=True)
    line_ids = fields.One2many("spp.dci.crvs.import.line", "import_id", readonly=True)

    def _compute_name(self):
        events = dict(EVENT_SELECTION)
        for run in self:
            what = events.get(run.event_type, "Births and deaths")
            run.name = f"{what} from {run.data_source_id.name} #{run.id or ''}".strip()

    def summary(self):
        """One line for notifications and the server log."""
        self.ensure_one()
        if self.state == "failed":
            return f"failed, nothing imported: {self.error}"
        return (
            f"{self.record_count} record(s): {self.created_count} created, "
            f"{self.updated_count} updated, {self.unchanged_count} unchanged, "
            f"{self.skipped_count} skipped"
        )

    def action_view_registrants(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "spp_dci.registrant_individual_action"
        )
        action["domain"] = [("id", "in", self.line_ids.partner_id.ids)]
        return action


class SppDciCrvsImportLine(models.Model):
    """A record that an import created, updated or skipped (unchanged ones are only counted)."""

    _name = "spp.dci.crvs.import.line"
    _description = "DCI CRVS Import Line"
    _order = "import_id, id"

    import_id = fields.Many2one(
        "spp.dci.crvs.import", required=True, ondelete="cascade", index=True
    )
    outcome = fields.Selection(OUTCOMES, required=True, index=True)
    partner_id = fields.Many2one("res.partner", string="Registrant", ondelete="set null")
    identifiers = fields.Char(help="The identifiers the CRVS record carries.")
    detail = fields.Char(help="What changed, or why the record was skipped.")
