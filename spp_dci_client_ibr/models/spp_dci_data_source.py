# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
import logging
from dataclasses import dataclass, field

from odoo import api, fields, models
from odoo.addons.spp_dci.dci.codes import RequestStatus
from odoo.addons.spp_dci_client.client.service import new_id
from odoo.addons.spp_dci_client.models import registrant_check
from odoo.exceptions import AccessError, UserError

from .. import mapping

_logger = logging.getLogger(__name__)

SYNC_ENROLLED = "/registry/sync/enrolled"


@dataclass
class CheckSummary(registrant_check.CheckSummary):
    """What one IBR check found, in words for the case worker."""

    enrolled: list = field(default_factory=list)  # (registrant name, warning)
    not_enrolled: int = 0

    def text(self):
        lines = [
            f"{len(self.enrolled) + self.not_enrolled} checked: {len(self.enrolled)} already "
            f"enrolled, {self.not_enrolled} not enrolled."
        ]
        lines += [f"{name}: {warning}" for name, warning in self.enrolled]
        lines += [f"{name}: {reason}" for name, reason in self.problems]
        return "\n".join(lines)

    @property
    def checked(self):
        return len(self.enrolled) + self.not_enrolled

    @property
    def flagged(self):
        return len(self.enrolled)

    @property
    def attention(self):
        return bool(self.enrolled or self.problems)


class SppDciDataSource(models.Model):
    """Integrated beneficiary registry (IBR) data sources: duplicate enrolment checks."""

    _inherit = "spp.dci.data.source"

    ibr_check_method = fields.Selection(
        [
            ("search", "Search (/registry/sync/search, several registrants per request)"),
            (
                "enrolled",
                "Enrolled (/registry/sync/enrolled, yes/no, one registrant per request)",
            ),
        ],
        string="IBR Check Method",
        default="search",
        help="Search returns the programmes with status and dates. The spec's enrolled "
        "request names one person and its answer is a bare, unsigned message: it needs "
        "'Require signature' off.",
    )
    ibr_batch_size = fields.Integer(
        string="IBR Batch Size",
        default=50,
        help="Registrants per search request (the search_request items of one message).",
    )
    ibr_id_type_ids = fields.Many2many(
        "spp.id.type",
        "spp_dci_data_source_ibr_id_type_rel",
        string="IBR Identifier Types",
        default=lambda self: self.env.ref("spp_dci.id_type_uin", raise_if_not_found=False),
        help="Identifier types the IBR knows people by; a registrant is looked up with the "
        "first of these types (by sequence) that they hold.",
    )
    path_sync_enrolled = fields.Char(default=SYNC_ENROLLED)

    _ibr_batch_size_positive = models.Constraint(
        "CHECK(ibr_batch_size IS NULL OR ibr_batch_size > 0)",
        "The IBR batch size must be positive.",
    )

    @api.model
    def _ibr_default_source(self):
        return self._dci_default_source(
            "ibr",
            self.env._(
                "No integrated beneficiary registry is configured (DCI > Client > Data Sources)."
            ),
        )

    def _ibr_ensure(self):
        self.ensure_one()
        if self.registry_type != "ibr":
            raise UserError(self.env._("%s is not an integrated beneficiary registry.", self.name))
        if not self.env.user.has_group("spp_dci.group_dci_user"):
            raise AccessError(self.env._("Only DCI users may check the IBR."))
        if self.ibr_check_method == "enrolled" and self.require_signature:
            raise UserError(
                self.env._(
                    "%s: the IBR spec answers /registry/sync/enrolled with a bare message that "
                    "carries no signature, and this data source requires signed answers. Use "
                    "the search method, or turn off 'Require signature'.",
                    self.name,
                )
            )

    def _dci_check_ensure(self):
        if self.registry_type != "ibr":
            return super()._dci_check_ensure()
        return self._ibr_ensure()

    def _dci_check_registrants(self, partners):
        if self.registry_type != "ibr":
            return super()._dci_check_registrants(partners)
        return self._ibr_check_registrants(partners)

    def _ibr_identifiers(self, partners):
        """``{partner id: (type code, value)}``: the identifier to ask with (one query)."""
        return self._dci_registrant_identifiers(partners, self.ibr_id_type_ids)

    def _ibr_check_registrants(self, partners):
        """Ask the IBR about ``partners`` and store the enrolments; returns a summary.

        Every request is made before anything is written: a failure
        (transport, garbage, bad signature...) raises and changes nothing.
        """
        self._ibr_ensure()
        partners = partners.sudo()
        summary = CheckSummary()
        wanted = self._dci_split_registrants(partners, self.ibr_id_type_ids, summary)
        if self.ibr_check_method == "enrolled":
            answers = self._ibr_ask_enrolled(wanted, summary)
        else:
            answers = self._ibr_ask_in_batches(wanted, summary)
        now = fields.Datetime.now()
        by_id = {partner.id: partner for partner in partners}
        for partner_id, answer in answers.items():
            partner = by_id[partner_id]
            if isinstance(answer, str):
                summary.problems.append((partner.display_name, answer))
                continue
            if isinstance(answer, bool):
                warning = partner._ibr_apply(self, now, enrolled=answer)
            else:
                warning = partner._ibr_apply(self, now, enrolments=answer)
            if warning:
                summary.enrolled.append((partner.display_name, warning))
            else:
                summary.not_enrolled += 1
        # counts only: who is enrolled where is not for the server log
        _logger.info(
            "DCI IBR check on %s by user %s, %s request(s): %s already enrolled, "
            "%s not enrolled, %s not checked",
            self.name,
            self.env.uid,
            summary.requests,
            len(summary.enrolled),
            summary.not_enrolled,
            len(summary.problems),
        )
        return summary

    def _ibr_ask_in_batches(self, wanted, summary):
        """``/registry/sync/search``: ``{partner id: [Enrolment] | reason}``."""
        return self._dci_search_registrants(
            wanted,
            self.ibr_batch_size,
            summary,
            reg_record_type=mapping.REG_RECORD_TYPE,
            read_item=lambda item, _identifier: self._ibr_read_search_item(item),
        )

    @staticmethod
    def _ibr_read_search_item(item):
        if item is None:
            return "the IBR's answer has no item for this registrant"
        if item.status == RequestStatus.RJCT:
            reason = item.status_reason_code.value if item.status_reason_code else "no reason code"
            message = f" ({item.status_reason_message})" if item.status_reason_message else ""
            return f"the IBR rejected the search: {reason}{message}"
        if item.status != RequestStatus.SUCC:
            return f"the IBR answered '{item.status.value}', not a final answer"
        records = item.data.reg_records if item.data else []
        records = [records] if isinstance(records, dict) else records
        try:
            return mapping.parse_records(records)
        except mapping.InvalidRecord as exc:
            return f"invalid IBR record: {exc}"

    def _ibr_ask_enrolled(self, wanted, summary):
        """``/registry/sync/enrolled``, one registrant each: ``{partner id: bool | reason}``."""
        answers = {}
        with self._dci_client() as client:
            for partner_id, (id_type, value) in wanted.items():
                result = client.sync_call(
                    SYNC_ENROLLED,
                    {
                        "transaction_id": new_id(),
                        "enrolled_criteria": {
                            "query_type": "idtype-value",
                            "query": {"type": id_type, "value": value},
                        },
                    },
                    path=self.path_sync_enrolled or SYNC_ENROLLED,
                )
                summary.requests += 1
                try:
                    items = result.message.enrolled_response
                    if len(items) != 1:
                        raise mapping.InvalidRecord(
                            f"the IBR answered {len(items)} items about one person"
                        )
                    item = items[0]
                    if item.status == RequestStatus.RJCT:
                        raise mapping.InvalidRecord(
                            "the IBR rejected the request"
                            + (
                                f" ({item.status_reason_message})"
                                if item.status_reason_message
                                else ""
                            )
                        )
                    answers[partner_id] = mapping.enrolled_status(item.enrolled_status.value)
                except mapping.InvalidRecord as exc:
                    answers[partner_id] = str(exc)
        return answers
