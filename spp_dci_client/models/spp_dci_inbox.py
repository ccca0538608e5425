# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
import time

from odoo import api, fields, models
from odoo.addons.spp_dci.dci.errors import DCIError

from .spp_dci_client_receiver import RECEIVED_ACTIONS


class SppDciInbox(models.Model):
    """The server's store of received callbacks, checked against our data sources first."""

    _inherit = "spp.dci.inbox"

    dci_data_source_id = fields.Many2one(
        "spp.dci.data.source",
        string="Data Source",
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
    )
    dci_client_transaction_id = fields.Many2one(
        "spp.dci.client.transaction",
        string="Client Transaction",
        readonly=True,
        ondelete="set null",
    )

    @api.model
    def _dci_receiver_ids(self):
        """Ours, plus the own sender id of every data source that has one."""
        sources = self.env["spp.dci.data.source"].sudo().search([("sender_id", "!=", False)])
        return super()._dci_receiver_ids() | set(sources.mapped("sender_id"))

    @api.model
    def _dci_requires_http_signature(self, sender):
        """Also required when the data source of this registry says so."""
        return super()._dci_requires_http_signature(sender) or bool(
            self.env["spp.dci.data.source"]
            .sudo()
            .search_count(
                [
                    ("registry_sender_id", "=", sender.client_id),
                    ("require_http_signature", "=", True),
                ],
                limit=1,
            )
        )

    @api.model
    def _dci_receive(self, config, sender, action, data, envelope, signature_state, kid):
        """Accept a callback only if it answers one of our data sources.

        See ``spp.dci.client.receiver``.

        Runs after the DCI app authenticated the caller and checked its
        envelope. A refusal raises ``DCIError`` before anything is stored;
        the exchange log records both outcomes.
        """
        receiver = self.env["spp.dci.client.receiver"]
        start = time.monotonic()
        url = (config.root_path or "") + RECEIVED_ACTIONS.get(str(action), "")
        source = None
        try:
            source, transaction, result = receiver._dci_accept(action, data, sender, kid)
            inbox = super()._dci_receive(
                config, sender, action, data, envelope, signature_state, kid
            )
            inbox.sudo().write(
                {"dci_data_source_id": source.id, "dci_client_transaction_id": transaction.id}
            )
            receiver._dci_register(source, transaction, result)
        except DCIError as err:
            receiver._dci_log_incoming(action, data, url=url, source=source, start=start, error=err)
            raise
        receiver._dci_log_incoming(action, data, url=url, source=source, start=start)
        return inbox
