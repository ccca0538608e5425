# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
import logging

from odoo import fields, models

from .. import mapping

_logger = logging.getLogger(__name__)


class SppDciDataSource(models.Model):
    """Scheduled pull: a background import from the last watermark to today, per event."""

    _inherit = "spp.dci.data.source"

    crvs_scheduled_pull = fields.Boolean(
        string="Scheduled Pull",
        help="The CRVS cron imports births and deaths from the watermark to today.",
    )
    crvs_birth_watermark = fields.Date(
        string="Births Pulled Up To",
        help="The last day a scheduled pull imported births up to; the next pull starts "
        "on that day (its records again, unchanged) and ends today. Empty: from yesterday.",
    )
    crvs_death_watermark = fields.Date(string="Deaths Pulled Up To")

    def _crvs_watermark_field(self, event):
        return {mapping.BIRTH: "crvs_birth_watermark", mapping.DEATH: "crvs_death_watermark"}[event]

    def _crvs_cron_pull(self):
        """Cron: start the pulls due (one running pull per source and event at most)."""
        sources = self.sudo().search(
            [("registry_type", "=", "crvs"), ("crvs_scheduled_pull", "=", True)]
        )
        running = (
            self.env["spp.dci.crvs.import"]
            .sudo()
            ._read_group(
                [
                    ("origin", "=", "pull"),
                    ("state", "=", "running"),
                    ("data_source_id", "in", sources.ids),
                ],
                ["data_source_id", "event_type"],
            )
        )
        busy = {(source.id, event) for source, event in running}
        today = fields.Date.context_today(self)
        started = self.env["spp.dci.crvs.import"]
        for source in sources:
            for event in mapping.EVENTS:
                if (source.id, event) in busy:
                    continue
                since = source[self._crvs_watermark_field(event)] or fields.Date.subtract(
                    today, days=1
                )
                started |= source._crvs_import_start(event, since, today, origin="pull")
        return started

    def _crvs_pulled(self, run):
        """A pull is done: its end date is the new watermark."""
        field = self._crvs_watermark_field(run.event_type)
        if not self[field] or self[field] < run.date_to:
            self.sudo()[field] = run.date_to
