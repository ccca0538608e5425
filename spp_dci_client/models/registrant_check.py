# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
"""What registry-check addons (IBR, DR...) share: ask a registry about registrants.

A check picks, per registrant, the identifier to ask with (the first of the
data source's identifier types, by sequence, that the registrant holds),
sets aside those it cannot ask about, then asks ``/registry/sync/search``
with several ``search_request`` items per message, matching the answers by
our own ``reference_id``. What an answer means is the calling addon's.
"""

from dataclasses import dataclass, field

from odoo import api, models
from odoo.addons.spp_dci.dci.schemas import utc_now
from odoo.exceptions import UserError

from ..client.service import new_id

SYNC_SEARCH = "/registry/sync/search"


@dataclass
class CheckSummary:
    """What one registrant check did: requests made, registrants not checked."""

    requests: int = 0
    problems: list = field(default_factory=list)  # (registrant name, reason)


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
