# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
"""A registrant check of many registrants, run in the background one batch per queue job.

A batch is one request to the registry (the data source's batch size), applied
and committed by its own job: a failed batch fails its job (the Job Queue's
failed filter shows it, *Requeue* runs it again) and leaves the others applied.
The run's figures are read from its batches, so parallel jobs never write the
same row.
"""

from odoo import api, fields, models

STATES = [("running", "Running"), ("done", "Done"), ("failed", "Failed")]


class SppDciCheckRun(models.Model):
    _name = "spp.dci.check.run"
    _description = "DCI Registrant Check"
    _inherit = ["mail.thread"]
    _order = "id desc"

    name = fields.Char(compute="_compute_name")
    data_source_id = fields.Many2one(
        "spp.dci.data.source", required=True, readonly=True, index=True, ondelete="cascade"
    )
    registry_type = fields.Selection(related="data_source_id.registry_type", store=True)
    user_id = fields.Many2one("res.users", string="Started By", readonly=True)
    started_at = fields.Datetime(readonly=True)
    registrant_count = fields.Integer(string="Registrants", readonly=True)
    batch_ids = fields.One2many("spp.dci.check.batch", "run_id", string="Batches", readonly=True)
    state = fields.Selection(STATES, compute="_compute_progress", search="_search_state")
    batch_count = fields.Integer(string="Batch Count", compute="_compute_progress")
    batch_done = fields.Integer(string="Batches Done", compute="_compute_progress")
    batch_failed = fields.Integer(string="Batches Failed", compute="_compute_progress")
    checked_count = fields.Integer(string="Checked", compute="_compute_progress")
    flagged_count = fields.Integer(
        string="Flagged",
        compute="_compute_progress",
        help="Already enrolled elsewhere (IBR) or with a disability (DR).",
    )
    problem_count = fields.Integer(string="Not Checked", compute="_compute_progress")
    progress = fields.Float(compute="_compute_progress", help="Percent of the batches done.")
    finished_at = fields.Datetime(compute="_compute_progress")

    @api.depends("data_source_id", "started_at")
    def _compute_name(self):
        for run in self:
            run.name = self.env._(
                "Check of %(count)s registrants with %(registry)s",
                count=run.registrant_count,
                registry=run.data_source_id.name or "",
            )

    @api.depends("batch_ids.state", "batch_ids.job_state")
    def _compute_progress(self):
        for run in self:
            batches = run.batch_ids
            done = batches.filtered(lambda b: b.state == "done")
            failed = batches.filtered(lambda b: b.state != "done" and b.job_state == "failed")
            run.batch_count = len(batches)
            run.batch_done = len(done)
            run.batch_failed = len(failed)
            run.checked_count = sum(done.mapped("checked_count"))
            run.flagged_count = sum(done.mapped("flagged_count"))
            run.problem_count = sum(done.mapped("problem_count"))
            run.progress = 100.0 * len(done) / len(batches) if batches else 100.0
            finished = len(done) == len(batches)
            run.finished_at = finished and max(done.mapped("done_at"), default=False)
            run.state = "done" if finished else "failed" if failed else "running"

    def _search_state(self, operator, value):
        if operator not in ("=", "in"):
            return NotImplemented
        wanted = {value} if operator == "=" else set(value)
        self.env["spp.dci.check.batch"].flush_model()
        self.env.cr.execute(
            """
            SELECT b.run_id,
                   CASE WHEN bool_and(b.state = 'done') THEN 'done'
                        WHEN bool_or(b.state != 'done' AND j.state = 'failed') THEN 'failed'
                        ELSE 'running' END
              FROM spp_dci_check_batch b
              LEFT JOIN queue_job j ON j.id = b.job_id
             GROUP BY b.run_id
            """
        )
        return [
            ("id", "in", [run_id for run_id, state in self.env.cr.fetchall() if state in wanted])
        ]

    def action_requeue_failed(self):
        """Run the failed batches again (their jobs, as *Requeue* in the Job Queue does)."""
        self.batch_ids.filtered(lambda b: b.job_state == "failed").sudo().job_id.requeue()
        return True


class SppDciCheckBatch(models.Model):
    _name = "spp.dci.check.batch"
    _description = "DCI Registrant Check Batch"
    _order = "run_id, sequence"

    run_id = fields.Many2one(
        "spp.dci.check.run", required=True, readonly=True, index=True, ondelete="cascade"
    )
    sequence = fields.Integer(readonly=True)
    partner_ids = fields.Many2many(
        "res.partner", "spp_dci_check_batch_partner_rel", string="Registrants", readonly=True
    )
    partner_count = fields.Integer(string="Registrant Count", readonly=True)
    state = fields.Selection(
        [("queued", "Queued"), ("done", "Done")], default="queued", required=True, readonly=True
    )
    # queue.job is for job queue managers; the case worker reads the state through the related
    job_id = fields.Many2one(
        "queue.job", readonly=True, ondelete="set null", groups="queue_job.group_queue_job_manager"
    )
    job_state = fields.Selection(related="job_id.state", string="Job State")
    job_error = fields.Char(related="job_id.exc_message", string="Job Error")
    done_at = fields.Datetime(readonly=True)
    checked_count = fields.Integer(string="Checked", readonly=True)
    flagged_count = fields.Integer(string="Flagged", readonly=True)
    problem_count = fields.Integer(string="Not Checked", readonly=True)
    summary = fields.Text(readonly=True, help="What the registry said, in words.")
