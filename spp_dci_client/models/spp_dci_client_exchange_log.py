# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
import json
import logging

from odoo import SUPERUSER_ID, api, fields, models
from odoo.addons.spp_dci_server.services import retention

from .ir_http import PENDING_LOG

_logger = logging.getLogger(__name__)

#: Payloads longer than this (characters of JSON) are cut in the log.
DEFAULT_PAYLOAD_LIMIT = 256 * 1024
DEFAULT_RETENTION_DAYS = 90
RETENTION_DAYS = "spp_dci_client.log_retention_days"
#: Key of a log entry's values (not a field): the transaction a refused callback named.
REFUSED_TRANSACTION = "_refused_transaction_id"


class SppDciClientExchangeLog(models.Model):
    """One HTTP exchange with an external DCI registry, outgoing or incoming.

    An audit trail, so it is written in its own transaction (a separate cursor,
    committed at once): the entry stays when the business transaction that
    caused the exchange is rolled back. For the same reason it holds no foreign
    keys: the data source is kept as an id and a name, so an entry can be
    written before the data source's own transaction is committed, and it
    outlives the data source. Nobody edits entries; payloads are readable by
    DCI administrators only.
    """

    _name = "spp.dci.client.exchange.log"
    _description = "DCI Client Exchange Log"
    _order = "exchange_time desc, id desc"
    _rec_name = "action"

    exchange_time = fields.Datetime(required=True, index=True, readonly=True)
    direction = fields.Selection(
        [("outgoing", "Outgoing"), ("incoming", "Incoming")],
        required=True,
        readonly=True,
        index=True,
    )
    data_source_ref = fields.Integer(string="Data Source ID", index=True, readonly=True)
    data_source_name = fields.Char(string="Data Source Name", readonly=True)
    data_source_id = fields.Many2one(
        "spp.dci.data.source",
        compute="_compute_data_source_id",
        search="_search_data_source_id",
        string="Data Source",
    )
    action = fields.Char(
        readonly=True, index=True, help="DCI header.action, or oauth2-token / jwks."
    )
    url = fields.Char(string="URL", readonly=True)
    attempt = fields.Integer(readonly=True, default=1)
    http_status = fields.Integer(string="HTTP Status", readonly=True)
    status = fields.Selection(
        [("ok", "OK"), ("error", "Error"), ("refused", "Refused")],
        required=True,
        readonly=True,
        index=True,
    )
    error_kind = fields.Char(
        readonly=True, help="dns, tls, timeout, auth, signature, spec, rejected, ..."
    )
    error = fields.Text(readonly=True)
    note = fields.Char(readonly=True, help="What to know about an accepted exchange.")
    duration_ms = fields.Integer(string="Duration (ms)", readonly=True)
    transaction_id = fields.Char(index=True, readonly=True)
    correlation_id = fields.Char(index=True, readonly=True)
    message_id = fields.Char(index=True, readonly=True)
    user_login = fields.Char(string="User", readonly=True)
    remote_address = fields.Char(
        string="Caller Address", readonly=True, help="Incoming: the IP address of the caller."
    )
    request_payload = fields.Text(readonly=True, groups="spp_dci.group_dci_admin")
    response_payload = fields.Text(readonly=True, groups="spp_dci.group_dci_admin")

    def _compute_data_source_id(self):
        sources = self.env["spp.dci.data.source"].with_context(active_test=False)
        existing = set(sources.browse(self.mapped("data_source_ref")).exists().ids)
        for entry in self:
            entry.data_source_id = (
                sources.browse(entry.data_source_ref)
                if entry.data_source_ref in existing
                else False
            )

    def _search_data_source_id(self, operator, value):
        if operator in ("in", "not in"):
            ids = [v for v in (value if isinstance(value, list | tuple) else [value]) if v]
            return [("data_source_ref", operator, ids)]
        if operator in ("=", "!=") and isinstance(value, int):
            return [("data_source_ref", operator, value)]
        sources = (
            self.env["spp.dci.data.source"]
            .with_context(active_test=False)
            ._search([("name", operator, value)])
        )
        return [("data_source_ref", "in", sources)]

    # -- writing -------------------------------------------------------------------------

    @api.model
    def _dci_payload(self, payload):
        if payload is None:
            return False
        text = (
            payload
            if isinstance(payload, str)
            else json.dumps(payload, ensure_ascii=False, indent=1)
        )
        limit = int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("spp_dci_client.log_payload_limit", DEFAULT_PAYLOAD_LIMIT)
        )
        if len(text) > limit:
            text = text[:limit] + f"\n... [cut: {len(text)} characters in total]"
        return text

    @api.model
    def _dci_record(self, vals_list, *, defer=False):
        """Write entries in a separate transaction and commit it at once.

        Never raises: a failing log must not break the exchange it describes.
        Returns the new ids (readable from this transaction only after it ends,
        except in tests where every cursor shares one transaction).

        ``defer``: inside an HTTP request, queue the entries instead; the
        request's thread writes them (still in their own transaction) when it
        ends, see ``ir_http.PENDING_LOG``. For code that runs in the DCI app's
        worker thread, which must not open cursors of its own.
        """
        if isinstance(vals_list, dict):
            vals_list = [vals_list]
        login = self.env.user.login if self.env.uid else False
        for vals in vals_list:
            vals.setdefault("exchange_time", fields.Datetime.now())
            vals.setdefault("user_login", login)
        pending = PENDING_LOG.get() if defer else None
        if pending is not None:
            pending.extend(vals_list)  # payloads are prepared once, when they are written
            return []
        refusals = []
        for vals in vals_list:
            for key in ("request_payload", "response_payload"):
                if key in vals:
                    vals[key] = self._dci_payload(vals[key])
            # a refused callback naming one of our transactions (see _dci_write_incoming)
            refused_txn = vals.pop(REFUSED_TRANSACTION, None)
            if refused_txn:
                refusals.append((refused_txn, vals.get("action"), vals.get("error")))
        try:
            with self.env.registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                ids = env[self._name].create(vals_list).ids
                if refusals:
                    try:
                        with cr.savepoint():
                            env["spp.dci.client.transaction"]._dci_note_refusals(refusals)
                    except Exception:  # the log entry matters more than the note
                        _logger.exception("DCI client: could not note refused callbacks")
                return ids
        except Exception:
            _logger.exception("DCI client: could not write %d exchange log entries", len(vals_list))
            return []

    @api.model
    def _dci_record_exchange(
        self, exchange, data_source=None, *, defer=False, refused_transaction_id=None
    ):
        """Log a :class:`~..client.service.Exchange` reported by the client service.

        ``refused_transaction_id``: a refused callback named this transaction of ours;
        the refusal is noted on it (``_dci_note_refusals``) with the entry.
        """
        extra = {REFUSED_TRANSACTION: refused_transaction_id} if refused_transaction_id else {}
        return self._dci_record(
            {
                **extra,
                "direction": exchange.direction,
                "data_source_ref": data_source.id if data_source else False,
                "data_source_name": data_source.name if data_source else False,
                "action": exchange.action,
                "url": exchange.url,
                "attempt": exchange.attempt,
                "http_status": exchange.http_status or False,
                "status": exchange.status,
                "error_kind": exchange.error_kind or False,
                "error": exchange.error or False,
                "note": exchange.note or False,
                "duration_ms": exchange.duration_ms,
                "transaction_id": exchange.transaction_id or False,
                "correlation_id": exchange.correlation_id or False,
                "message_id": exchange.message_id or False,
                "remote_address": exchange.remote_address or False,
                "request_payload": exchange.request_body,
                "response_payload": exchange.response_body,
            },
            defer=defer,
        )

    @api.autovacuum
    def _gc_exchange_log(self):
        """Delete entries older than the retention period, a batch per call, oldest first."""
        days = retention.int_param(self.env, RETENTION_DAYS, DEFAULT_RETENTION_DAYS)
        return retention.purge_batch(self.sudo(), days, date_column="exchange_time")
