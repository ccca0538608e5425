# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
import math

from odoo import fields, models
from odoo.exceptions import UserError

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
    _inherit = ["mail.thread"]
    _description = "DCI CRVS Import"
    _order = "id desc"

    name = fields.Char(compute="_compute_name")
    data_source_id = fields.Many2one(
        "spp.dci.data.source", required=True, readonly=True, index=True, ondelete="cascade"
    )
    origin = fields.Selection(
        [
            ("search", "Import (sync search)"),
            ("pull", "Scheduled pull (sync search)"),
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
        tracking=True,
    )
    error = fields.Text(readonly=True)
    started_at = fields.Datetime(readonly=True)
    finished_at = fields.Datetime(readonly=True)
    page_count = fields.Integer(string="Pages Done", readonly=True)
    # resumable background imports (sync search): one queue job per page, each committed
    page_size = fields.Integer(readonly=True)
    next_page = fields.Integer(
        default=1, readonly=True, help="The page the import continues from (all before are in)."
    )
    total_count = fields.Integer(
        string="Records Announced", readonly=True, help="total_count of the registry's last page."
    )
    progress_at = fields.Datetime(string="Last Page At", readonly=True)
    page_total = fields.Integer(string="Pages", compute="_compute_progress")
    progress = fields.Float(compute="_compute_progress", help="Percent of the announced records.")
    rate = fields.Float(
        string="Records/s", compute="_compute_progress", digits=(16, 1), help="Since the start."
    )
    eta = fields.Char(string="ETA", compute="_compute_progress")
    record_count = fields.Integer(readonly=True)
    created_count = fields.Integer(string="Created", readonly=True)
    updated_count = fields.Integer(string="Updated", readonly=True)
    unchanged_count = fields.Integer(string="Unchanged", readonly=True)
    skipped_count = fields.Integer(string="Skipped", readonly=True)
    line_ids = fields.One2many("spp.dci.crvs.import.line", "import_id", readonly=True)

    def write(self, vals):
        result = super().write(vals)
        if vals.get("state") in ("done", "failed"):
            # the audit trail of the import: what it did, on its own chatter
            for run in self:
                run.message_post(body=run.summary())
        return result

    def _compute_name(self):
        events = dict(EVENT_SELECTION)
        for run in self:
            what = events.get(run.event_type, "Births and deaths")
            run.name = f"{what} from {run.data_source_id.name} #{run.id or ''}".strip()

    def _compute_progress(self):
        for run in self:
            size, total = run.page_size, run.total_count
            run.page_total = math.ceil(total / size) if size and total else run.page_count
            run.progress = min(100.0, 100.0 * run.record_count / total) if total else 0.0
            end = run.finished_at or run.progress_at
            seconds = (end - run.started_at).total_seconds() if end and run.started_at else 0
            run.rate = run.record_count / seconds if seconds > 0 else 0.0
            left = max(total - run.record_count, 0)
            if run.state != "running" or not run.rate or not left:
                run.eta = False
            else:
                run.eta = _duration(left / run.rate)

    def summary(self):
        """One line for notifications and the server log."""
        self.ensure_one()
        if self.state == "failed" and self.page_size and self.page_count:
            # a background import keeps the pages it committed before the failure
            return (
                f"stopped, {self.page_count} page(s) of {self.record_count} record(s) "
                f"imported, resumable: {self.error}"
            )
        if self.state == "failed":
            return f"failed, nothing imported: {self.error}"
        return (
            f"{self.record_count} record(s): {self.created_count} created, "
            f"{self.updated_count} updated, {self.unchanged_count} unchanged, "
            f"{self.skipped_count} skipped"
        )

    def action_resume(self):
        """Continue a failed background import from its first page not yet imported."""
        self.ensure_one()
        if self.state != "failed" or self.origin not in ("search", "pull") or not self.page_size:
            raise UserError(self.env._("Only a failed background import can be resumed."))
        self.data_source_id._crvs_check()
        self.sudo().write({"state": "running", "error": False, "finished_at": False})
        self.data_source_id._crvs_queue_page(self.sudo(), self.next_page)
        return True

    def action_view_registrants(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "spp_dci.registrant_individual_action"
        )
        action["domain"] = [("id", "in", self.line_ids.partner_id.ids)]
        return action


def _duration(seconds):
    minutes, seconds = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {seconds:02d}s"


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
