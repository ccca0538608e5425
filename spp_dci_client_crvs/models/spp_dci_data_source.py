# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
import logging

from odoo import fields, models
from odoo.addons.queue_job.exception import FailedJobError, RetryableJobError
from odoo.addons.spp_dci_client.client.service import next_page_number, records_of
from odoo.addons.spp_dci_client.models.spp_dci_data_source import DCIClientUserError
from odoo.addons.spp_dci_server.services.concurrency import RETRYABLE, job_retry
from odoo.exceptions import AccessError, UserError

from .. import mapping
from ..importer import CRVSUpsert

_logger = logging.getLogger(__name__)

#: First key of the advisory lock a page job holds on its run (the second is the run id).
RUN_LOCK = 0x43525653  # "CRVS"


class SppDciDataSource(models.Model):
    """CRVS data sources: import births and deaths, and apply what the CRVS calls back."""

    _inherit = "spp.dci.data.source"

    crvs_import_ids = fields.One2many(
        "spp.dci.crvs.import", "data_source_id", string="CRVS Imports"
    )
    crvs_import_count = fields.Integer(compute="_compute_crvs_import_count")

    def _compute_crvs_import_count(self):
        groups = self.env["spp.dci.crvs.import"]._read_group(
            [("data_source_id", "in", self.ids)], ["data_source_id"], ["__count"]
        )
        counts = {source.id: count for source, count in groups}
        for source in self:
            source.crvs_import_count = counts.get(source.id, 0)

    # -- checks ------------------------------------------------------------------------

    def _crvs_check(self):
        """A CRVS data source, and a user allowed to bring its records into the registry.

        Registrants are then written with sudo: case workers may not edit
        res.partner at large, but they may run this import.
        """
        self.ensure_one()
        if self.registry_type != "crvs":
            raise UserError(self.env._("%s is not a CRVS data source.", self.name))
        if not self.env.user.has_group("spp_dci.group_dci_user"):
            raise AccessError(self.env._("Only DCI users may import from a CRVS."))

    @staticmethod
    def _crvs_query(event, date_from, date_to):
        try:
            return mapping.event_query(event, date_from, date_to)
        except ValueError as exc:
            raise UserError(str(exc)) from exc

    def _crvs_criteria(self, event, date_from, date_to):
        """``search_criteria`` of an import: a predicate on the event's date, per the crvs spec.

        Sorted on that date (the registry breaks ties by its own key): offset
        paging over a live CRVS then sees the day's new registrations at the
        end, after the pages already imported, rather than shifting them.
        """
        return self._dci_criteria(
            "predicate",
            self._crvs_query(event, date_from, date_to),
            reg_event_type=mapping.REG_EVENT_TYPES[event],
            reg_record_type=mapping.REG_RECORD_TYPE,
            sort=[{"attribute_name": mapping.EVENT_DATE_ATTRIBUTES[event], "sort_order": "asc"}],
        )

    def _crvs_new_run(self, origin, **values):
        return (
            self.env["spp.dci.crvs.import"]
            .sudo()
            .create(
                {
                    "data_source_id": self.id,
                    "origin": origin,
                    "user_id": self.env.uid,
                    "started_at": fields.Datetime.now(),
                    **values,
                }
            )
        )

    def _crvs_finish(self, run, **values):
        run.write({"state": "done", "finished_at": fields.Datetime.now(), **values})
        if run.origin == "pull":
            run.data_source_id._crvs_pulled(run)
        # counts only: the records' identifiers and reasons stay on the (access-controlled) run
        _logger.info(
            "DCI CRVS import %s (%s) from %s: %s",
            run.id,
            run.origin,
            run.data_source_id.name,
            run.summary(),
        )

    # -- import (sync search, page after page) ---------------------------------------------

    def _crvs_import(self, event, date_from=None, date_to=None):
        """Import the ``event`` records dated in the range now; returns the ``spp.dci.crvs.import``.

        For small ranges (the wizard's "now"): all or nothing, the pages are
        applied inside one savepoint of the caller's transaction, so a registry
        failure on any page (garbage, bad signature, refusal...) leaves the
        registry as it was and the run ``failed`` with the reason. Large
        ranges go through :meth:`_crvs_import_start`. Running it again is
        safe: unchanged records are only counted.
        """
        self._crvs_check()
        criteria = self._crvs_criteria(event, date_from, date_to)
        run = self._crvs_new_run("search", event_type=event, date_from=date_from, date_to=date_to)
        upsert = CRVSUpsert(self.env(su=True), run)
        try:
            with self.env.cr.savepoint(), self._dci_client() as client:
                for item in client.iter_search_pages(criteria, page_size=self.page_size):
                    self._crvs_apply_page(run, upsert, item, event)
        except DCIClientUserError as exc:
            # the savepoint is rolled back: no registrant, counter or line of this run stays
            run.write({"state": "failed", "error": str(exc), "finished_at": fields.Datetime.now()})
            _logger.warning("DCI CRVS import %s failed, nothing imported: %s", run.id, exc)
            return run
        self._crvs_finish(run)
        return run

    def _crvs_apply_page(self, run, upsert, item, event):
        """Apply one page of a search to the registry and record the progress on ``run``."""
        upsert.apply(records_of(item), event=event)
        upsert.flush()
        pagination = item.pagination
        run.write(
            {
                "page_count": run.page_count + 1,
                "next_page": (pagination.page_number if pagination else run.next_page) + 1,
                "total_count": pagination.total_count if pagination else run.record_count,
                "progress_at": fields.Datetime.now(),
            }
        )

    def _crvs_import_start(self, event, date_from=None, date_to=None, origin="search"):
        """Import in the background, one committed queue job per page; returns the run.

        Each page job applies its page, records the progress and queues the
        next page in the same transaction: a crash loses at most the page in
        flight, which queue_job runs again (nothing of it was committed).
        """
        self._crvs_check()
        self._crvs_criteria(event, date_from, date_to)  # bad ranges fail here, not in the job
        run = self._crvs_new_run(
            origin,
            event_type=event,
            date_from=date_from,
            date_to=date_to,
            page_size=self.page_size,
        )
        self._crvs_queue_page(run, 1)
        return run

    def _crvs_queue_page(self, run, page):
        self.sudo().with_delay(
            channel="root.dci",
            description=f"DCI: {run.name}, page {page}",
            identity_key=f"spp.dci.crvs.import,{run.id},{page}",
        )._crvs_import_page_job(run.id, page)

    def _crvs_import_page_job(self, run_id, page):
        """Queue job: import page ``page`` of the run, then queue the next one."""
        run = self.env["spp.dci.crvs.import"].sudo().browse(run_id).exists()
        if not run:
            return f"import {run_id} no longer exists"
        # One page job per run at a time (a resume while a job is still queued, a requeue).
        # An advisory lock, not a row lock: a failure is recorded on the run from another
        # transaction before this one is rolled back (see below).
        self.env.cr.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [RUN_LOCK, run.id])
        if not self.env.cr.fetchone()[0]:
            raise RetryableJobError("another page job of this import is running", 10)
        run.invalidate_recordset()
        # the failed page job requeued from the Job Queue continues the run, as Resume does
        requeued = run.state == "failed" and run.next_page == page
        if not requeued and (run.state != "running" or run.next_page != page):
            return f"{run.name}: page {page} already imported"
        event = run.event_type
        criteria = self._crvs_criteria(event, run.date_from, run.date_to)
        upsert = CRVSUpsert(self.env(su=True), run)
        try:
            # in the page's savepoint: a failure leaves no row lock on the run behind
            with self.env.cr.savepoint(), self._dci_client() as client:
                if requeued:
                    run.write({"state": "running", "error": False, "finished_at": False})
                item = client.search_page(criteria, page, page_size=run.page_size)
                if item is not None:
                    self._crvs_apply_page(run, upsert, item, event)
        except RETRYABLE as exc:  # a concurrent transaction: queue_job runs this page again
            raise job_retry(exc) from exc
        except DCIClientUserError as exc:
            # The pages before stay imported; "Resume" (or requeuing this job) continues
            # from this one. The failure is written in its own committed transaction,
            # then raised: queue_job rolls this one back and marks the job failed with
            # the reason, so the Job Queue's Failed filter shows it.
            error = f"Page {page}: {exc}"
            self._dci_independent_write(
                run._name,
                run.id,
                {"state": "failed", "error": error, "finished_at": fields.Datetime.now()},
            )
            _logger.warning(
                "DCI CRVS import %s stopped at page %s (resumable): %s", run.id, page, exc
            )
            raise FailedJobError(f"{run.name} stopped, resumable: {error}") from exc
        if item is None or next_page_number(item) is None:  # an empty answer: no more records
            self._crvs_finish(run)
        else:
            self._crvs_queue_page(run, run.next_page)
        return f"{run.name}: page {page}, {run.summary()}"

    def _crvs_import_async(self, event, date_from=None, date_to=None):
        """``/registry/search``: the records come back on ``on-search`` (see below)."""
        self._crvs_check()
        return self._dci_search_async(
            "predicate",
            self._crvs_query(event, date_from, date_to),
            reg_event_type=mapping.REG_EVENT_TYPES[event],
            reg_record_type=mapping.REG_RECORD_TYPE,
        )

    def _crvs_subscribe(self, event):
        """Subscribe to ``event`` notifications from today on (``/registry/subscribe``)."""
        self._crvs_check()
        return self._dci_subscribe(
            mapping.REG_EVENT_TYPES[event],
            "predicate",
            mapping.subscription_filter(event, fields.Date.context_today(self)),
            mapping.REG_RECORD_TYPE,
        )

    # -- callbacks (on-search, notify, txn-on-status) -------------------------------------------

    def _dci_process_callback(self, transaction, action, message):
        """Import a whole callback message as one run, with one identifier lookup.

        The base calls :meth:`_dci_handle_records` once per item (a ``notify``
        carries one person per event); here those calls only collect the
        records, which are then applied together.
        """
        if self.registry_type != "crvs" or self.env.context.get("crvs_collect") is not None:
            return super()._dci_process_callback(transaction, action, message)
        collected = []
        result = super(
            SppDciDataSource, self.with_context(crvs_collect=collected)
        )._dci_process_callback(transaction.with_context(crvs_collect=collected), action, message)
        if not collected:
            return result
        run = self._crvs_apply(collected, action, transaction)
        return f"{action}: {run.summary()}"

    def _dci_handle_records(self, records, *, action, transaction, reference_id, data):
        if self.registry_type != "crvs":
            return super()._dci_handle_records(
                records,
                action=action,
                transaction=transaction,
                reference_id=reference_id,
                data=data,
            )
        reg_event_type = (data or {}).get("reg_event_type")
        items = [(record, mapping.event_of(reg_event_type, record)) for record in records]
        collected = self.env.context.get("crvs_collect")
        if collected is not None:
            collected.extend(items)
        else:
            self._crvs_apply(items, action, transaction)
        return len(records)

    def _crvs_apply(self, items, action, transaction):
        """Apply ``[(record, event)]`` received from the CRVS as one run; returns the run."""
        run = self._crvs_new_run(
            action, transaction_id=transaction.id if transaction else False, page_count=1
        )
        upsert = CRVSUpsert(self.env(su=True), run)
        upsert.apply_events(items)
        upsert.flush()
        self._crvs_finish(run)
        return run

    # -- UI ----------------------------------------------------------------------------------

    def _crvs_wizard(self, event):
        self._crvs_check()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Import births")
            if event == mapping.BIRTH
            else self.env._("Import deaths"),
            "res_model": "spp.dci.crvs.import.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_data_source_id": self.id, "default_event_type": event},
        }

    def action_crvs_import_births(self):
        return self._crvs_wizard(mapping.BIRTH)

    def action_crvs_import_deaths(self):
        return self._crvs_wizard(mapping.DEATH)

    def _crvs_subscribed(self, event):
        sent = self._crvs_subscribe(event)
        return self._dci_subscribed_notification(sent, "CRVS")

    def action_crvs_subscribe_births(self):
        return self._crvs_subscribed(mapping.BIRTH)

    def action_crvs_subscribe_deaths(self):
        return self._crvs_subscribed(mapping.DEATH)

    def action_view_crvs_imports(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "spp_dci_client_crvs.action_spp_dci_crvs_import"
        )
        action["domain"] = [("data_source_id", "=", self.id)]
        return action
