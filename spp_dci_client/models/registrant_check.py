# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
"""What registry-check addons (IBR, DR...) share: ask a registry about registrants.

A check picks, per registrant, the identifier to ask with (the first of the
data source's identifier types, by sequence, that the registrant holds),
sets aside those it cannot ask about, then asks ``/registry/sync/search``
with several ``search_request`` items per message, matching the answers by
our own ``reference_id``. What an answer means is the calling addon's.
"""

from dataclasses import dataclass, field

from odoo import api, fields, models
from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.spp_dci.dci.schemas import utc_now
from odoo.addons.spp_dci_server.services.concurrency import RETRYABLE, job_retry
from odoo.exceptions import UserError

from ..client.service import new_id

SYNC_SEARCH = "/registry/sync/search"
CHECK_CHANNEL = "root.dci"
# what a later try may fix: the registry unreachable or overloaded, not a refusal
TRANSIENT_KINDS = {"network", "dns", "tls", "connect", "timeout"}
TRANSIENT_STATUSES = {429, 502, 503, 504}
RETRY_SECONDS = 60


def _transient(exc):
    """Whether a later try may succeed: the registry unreachable or overloaded."""
    error = getattr(exc, "error", None)
    if error is None:
        return False
    return error.kind in TRANSIENT_KINDS or (error.http_status or 0) in TRANSIENT_STATUSES


@dataclass
class CheckSummary:
    """What one registrant check did: requests made, registrants not checked.

    Subclasses say how many they ``checked`` and ``flagged`` (enrolled
    elsewhere, with a disability...), for the background runs' figures.
    """

    requests: int = 0
    problems: list = field(default_factory=list)  # (registrant name, reason)

    checked = 0
    flagged = 0

    @property
    def attention(self):
        """Whether the case worker should read the details (a sticky warning)."""
        return bool(self.problems)


class SppDciDataSource(models.Model):
    _inherit = "spp.dci.data.source"

    @api.model
    def _dci_default_source(self, registry_type, missing_message):
        """The first data source of ``registry_type``; ``UserError(missing_message)`` if none."""
        source = self.search([("registry_type", "=", registry_type)], limit=1)
        if not source:
            raise UserError(missing_message)
        return source

    def _dci_registrant_identifiers(self, partners, id_types):
        """``{partner id: (type code, value)}``: the identifier to ask with (one query)."""
        rows = (
            self.env["spp.registry.id"]
            .sudo()
            .search_fetch(
                [("partner_id", "in", partners.ids), ("id_type_id", "in", id_types.ids)],
                ["partner_id", "id_type_id", "value"],
            )
        )
        chosen = {}
        for row in rows.sorted(lambda r: (r.id_type_id.sequence, r.id_type_id.id, r.id)):
            chosen.setdefault(row.partner_id.id, (row.id_type_id.code, row.value))
        return chosen

    def _dci_split_registrants(self, partners, id_types, summary, *, individuals_only=False):
        """``{partner id: (type code, value)}`` of the ``partners`` that can be asked about.

        The others go to ``summary.problems`` with the reason.
        """
        identifiers = self._dci_registrant_identifiers(partners, id_types)
        wanted = {}
        for partner in partners:
            if not partner.is_registrant or (individuals_only and partner.is_group):
                reason = "not an individual registrant" if individuals_only else "not a registrant"
                summary.problems.append((partner.display_name, reason))
            elif partner.id not in identifiers:
                types = ", ".join(id_types.mapped("code")) or "none configured"
                summary.problems.append((partner.display_name, f"no identifier of type {types}"))
            else:
                wanted[partner.id] = identifiers[partner.id]
        return wanted

    def _dci_search_registrants(self, wanted, batch_size, summary, *, reg_record_type, read_item):
        """``/registry/sync/search``, ``batch_size`` registrants per request.

        ``wanted`` is ``{partner id: (type code, value)}``; returns
        ``{partner id: read_item(search item or None, (type code, value))}``.
        """
        answers = {}
        partner_ids = list(wanted)
        size = batch_size or 50
        with self._dci_client() as client:
            for start in range(0, len(partner_ids), size):
                # our own reference ids, to tell whose each answer is
                batch = {new_id(): partner_id for partner_id in partner_ids[start : start + size]}
                message = {
                    "transaction_id": new_id(),
                    "search_request": [
                        {
                            "reference_id": reference,
                            "timestamp": utc_now(),
                            "search_criteria": self._dci_criteria(
                                "idtype-value",
                                {"type": wanted[partner_id][0], "value": wanted[partner_id][1]},
                                reg_record_type=reg_record_type,
                            ),
                        }
                        for reference, partner_id in batch.items()
                    ],
                }
                result = client.sync_call(
                    SYNC_SEARCH, message, path=self.path_sync_search, total_count=len(batch)
                )
                summary.requests += 1
                items = {item.reference_id: item for item in result.message.search_response}
                for reference, partner_id in batch.items():
                    answers[partner_id] = read_item(items.get(reference), wanted[partner_id])
        return answers

    def _dci_check_ensure(self):
        """Raise what keeps the current user from checking registrants with this source.

        Registry addons (IBR, DR...) answer for their ``registry_type``, as
        for :meth:`_dci_check_registrants`.
        """
        raise UserError(
            self.env._("%(registry)s cannot check registrants.", registry=self.display_name)
        )

    def _dci_check_registrants(self, partners):
        """Ask this data source's registry about ``partners``: a :class:`CheckSummary`."""
        self._dci_check_ensure()

    def _dci_check_notification(self, partners, title, batch_size):
        """Check ``partners``: at once when they fit one request, else in the background.

        Returns the notification of the check done, or the run's form.
        """
        self.ensure_one()
        if len(partners) <= (batch_size or 50):
            summary = self._dci_check_registrants(partners)
            return {
                "type": "ir.actions.client",
                "tag": "display_notification",
                "params": {
                    "title": title,
                    "message": summary.text(),
                    "type": "warning" if summary.attention else "success",
                    "sticky": summary.attention,
                    "next": {"type": "ir.actions.client", "tag": "soft_reload"},
                },
            }
        run = self._dci_check_start(partners, batch_size)
        return {
            "type": "ir.actions.act_window",
            "res_model": "spp.dci.check.run",
            "res_id": run.id,
            "view_mode": "form",
            "target": "current",
        }

    def _dci_check_start(self, partners, batch_size):
        """A background check run of ``partners``: one queue job per batch; returns the run."""
        self.ensure_one()
        self._dci_check_ensure()  # access and set-up errors raise here, not in the jobs
        size = batch_size or 50
        ids = sorted(partners.ids)
        run = (
            self.env["spp.dci.check.run"]
            .sudo()
            .create(
                {
                    "data_source_id": self.id,
                    "user_id": self.env.uid,
                    "started_at": fields.Datetime.now(),
                    "registrant_count": len(ids),
                    "batch_ids": [
                        fields.Command.create(
                            {
                                "sequence": number,
                                "partner_ids": [fields.Command.set(ids[start : start + size])],
                                "partner_count": len(ids[start : start + size]),
                            }
                        )
                        for number, start in enumerate(range(0, len(ids), size), 1)
                    ],
                }
            )
        )
        # a whole list is thousands of batches: their jobs are queued by a job, not here
        self.with_delay(
            channel=CHECK_CHANNEL, description=f"DCI: {run.name}, queue the batches"
        )._dci_check_queue_batches(run.id)
        run.message_post(
            body=self.env._(
                "Check of %(count)s registrants started: %(batches)s batches.",
                count=len(ids),
                batches=len(run.batch_ids),
            )
        )
        return run.with_env(self.env)

    def _dci_check_queue_batches(self, run_id):
        """Queue job: one job per batch of the run not queued yet (the case worker's)."""
        batches = (
            self.env["spp.dci.check.batch"]
            .sudo()
            .search([("run_id", "=", run_id), ("state", "=", "queued"), ("job_id", "=", False)])
        )
        total = len(batches.run_id.batch_ids)
        uuids = {
            batch: self.with_delay(
                channel=CHECK_CHANNEL,
                description=f"DCI: {batch.run_id.name}, batch {batch.sequence}/{total}",
                identity_key=f"spp.dci.check.batch,{batch.id}",
            )
            ._dci_check_batch_job(batch.id)
            .uuid
            for batch in batches
        }
        # the jobs' records in one read, not one per batch
        jobs = self.env["queue.job"].sudo().search([("uuid", "in", list(uuids.values()))])
        job_ids = {job.uuid: job.id for job in jobs}
        for batch, uuid in uuids.items():
            batch.job_id = job_ids[uuid]
        return f"{len(batches)} batch job(s) queued"

    def _dci_check_batch_job(self, batch_id):
        """Queue job: one batch of a check run, applied and committed with its figures."""
        batch = self.env["spp.dci.check.batch"].sudo().browse(batch_id).exists()
        if not batch:
            return f"check batch {batch_id} no longer exists"
        if batch.state == "done":  # a requeue after it was applied
            return f"batch {batch.sequence} already checked"
        try:
            with self.env.cr.savepoint():
                summary = self._dci_check_registrants(batch.partner_ids.with_env(self.env))
        except RETRYABLE as exc:  # a concurrent transaction: queue_job runs the batch again
            raise job_retry(exc) from exc
        except UserError as exc:
            if _transient(exc):
                raise RetryableJobError(str(exc), seconds=RETRY_SECONDS) from exc
            raise  # the job fails with the reason; the run shows the batch failed
        batch.write(
            {
                "state": "done",
                "done_at": fields.Datetime.now(),
                "checked_count": summary.checked,
                "flagged_count": summary.flagged,
                "problem_count": len(summary.problems),
                "summary": summary.text(),
            }
        )
        return summary.text()

    def _dci_subscribed_notification(self, sent, registry_label):
        """The notification after a subscribe request ``registry_label`` acknowledged."""
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Subscription requested"),
                "message": self.env._(
                    "The %(registry)s acknowledged (%(ack)s); the subscription is active once "
                    "it confirms on on-subscribe.",
                    registry=registry_label,
                    ack=sent["ack_status"] or "pending",  # None: ACK lost, reconciled
                ),
                "type": "success",
            },
        }
