# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
import contextvars
import logging

from odoo import models
from odoo.http import request

_logger = logging.getLogger(__name__)

#: Exchange log entries waiting for the end of the current HTTP request.
#: The DCI app (FastAPI) runs in another thread than the Odoo request that
#: carries it; entries made there are written by the request's own thread
#: when it finishes (in their own transaction, whatever the request's fate).
PENDING_LOG = contextvars.ContextVar("spp_dci_client_pending_log", default=None)


class IrHttp(models.AbstractModel):
    _inherit = "ir.http"

    @classmethod
    def _pre_dispatch(cls, rule, args):
        PENDING_LOG.set([])
        return super()._pre_dispatch(rule, args)

    @classmethod
    def _post_dispatch(cls, response):
        try:
            return super()._post_dispatch(response)
        finally:
            cls._dci_flush_pending_log()

    @classmethod
    def _handle_error(cls, exception):
        cls._dci_flush_pending_log()
        return super()._handle_error(exception)

    @classmethod
    def _dci_flush_pending_log(cls):
        pending = PENDING_LOG.get()
        if not pending:
            return
        PENDING_LOG.set([])
        try:
            request.env["spp.dci.client.exchange.log"]._dci_record(pending)
        except Exception:
            _logger.exception(
                "DCI client: could not write %d received-callback log entries", len(pending)
            )
