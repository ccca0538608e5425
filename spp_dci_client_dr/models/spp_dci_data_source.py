# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
import logging
from dataclasses import dataclass

from odoo import Command, api, fields, models
from odoo.addons.spp_dci.dci.codes import RequestStatus
from odoo.addons.spp_dci_client.client.service import new_id
from odoo.addons.spp_dci_client.models import registrant_check
from odoo.exceptions import AccessError, UserError

from .. import mapping

#: The DR-only sync endpoints (their answers are signed on-search envelopes).
SYNC_DISABLED = "/registry/sync/disabled"
SYNC_DISABILITY_DETAILS = "/registry/sync/get-disability-details"

_logger = logging.getLogger(__name__)


@dataclass
class CheckSummary(registrant_check.CheckSummary):
    """What one disability check found, in words for the case worker."""

    disabled: int = 0
    pending: int = 0  # DisabilityStatusEnum Pending: still under assessment
    not_disabled: int = 0
    not_registered: int = 0

    @property
    def checked(self):
        return self.disabled + self.pending + self.not_disabled + self.not_registered

    def text(self):
        pending = f"{self.pending} pending (still under assessment), " if self.pending else ""
        parts = [
            f"{self.checked} checked: {self.disabled} with a disability, {pending}"
            f"{self.not_disabled} without, {self.not_registered} not in the disability registry."
        ]
        parts += [f"{name}: {reason}" for name, reason in self.problems]
        return "\n".join(parts)

    @property
    def flagged(self):
        return self.disabled


class SppDciDataSource(models.Model):
    """Disability registry (DR) data sources: check registrants, apply DR notifications."""

    _inherit = "spp.dci.data.source"

    dr_check_method = fields.Selection(
        [
            ("search", "Search (/registry/sync/search, several registrants per request)"),
            (
                "disabled",
                "Disabled + details (/registry/sync/disabled, then get-disability-details; "
                "one registrant per request)",
            ),
        ],
        string="DR Check Method",
        default="search",
        help="How a disability check asks the DR. The spec's disabled and "
        "get-disability-details requests carry one person each; a search carries many.",
    )
    dr_batch_size = fields.Integer(
        string="DR Batch Size",
        default=50,
        help="Registrants per search request (the search_request items of one message).",
    )
    dr_id_type_ids = fields.Many2many(
        "spp.id.type",
        "spp_dci_data_source_dr_id_type_rel",
        string="DR Identifier Types",
        default=lambda self: self.env.ref("spp_dci.id_type_uin", raise_if_not_found=False),
        help="Identifier types the DR knows people by; a registrant is looked up with the "
        "first of these types (by sequence) that they hold.",
    )
    path_sync_disabled = fields.Char(default=SYNC_DISABLED)
    path_sync_disability_details = fields.Char(default=SYNC_DISABILITY_DETAILS)

    _dr_batch_size_positive = models.Constraint(
        "CHECK(dr_batch_size IS NULL OR dr_batch_size > 0)", "The DR batch size must be positive."
    )

    # -- setup -------------------------------------------------------------------------

    @api.model
    def _dr_default_source(self):
        return self._dci_default_source(
            "dr", self.env._("No disability registry is configured (DCI > Client > Data Sources).")
        )

    def _dci_check_ensure(self):
        if self.registry_type != "dr":
            return super()._dci_check_ensure()
        return self._dr_ensure()

    def _dci_check_registrants(self, partners):
        if self.registry_type != "dr":
            return super()._dci_check_registrants(partners)
        return self._dr_check_registrants(partners)

    def _dr_ensure(self):
        self.ensure_one()
        if self.registry_type != "dr":
            raise UserError(self.env._("%s is not a disability registry.", self.name))
        if not self.env.user.has_group("spp_dci.group_dci_user"):
            raise AccessError(self.env._("Only DCI users may check the disability registry."))

    # -- the check -----------------------------------------------------------------------

    def _dr_identifiers(self, partners):
        """``{partner id: (type code, value)}``: the identifier to ask with (one query)."""
        return self._dci_registrant_identifiers(partners, self.dr_id_type_ids)

    def _dr_check_registrants(self, partners):
        """Ask the DR about ``partners`` and store what it says; returns a :class:`CheckSummary`.

        All requests are made before anything is written: a failed request
        (transport, garbage, bad signature...) raises and leaves every
        registrant as it was.
        """
        self._dr_ensure()
        partners = partners.sudo()
        summary = CheckSummary()
        wanted = self._dci_split_registrants(
            partners, self.dr_id_type_ids, summary, individuals_only=True
        )
        if self.dr_check_method == "disabled":
            answers = self._dr_ask_one_by_one(wanted, summary)
        else:
            answers = self._dr_ask_in_batches(wanted, summary)
        self._dr_store(partners, answers, summary)
        # counts only: who has a disability is not for the server log
        _logger.info(
            "DCI DR check on %s by user %s, %s request(s): %s with a disability, %s pending, "
            "%s without, %s not in the DR, %s not checked",
            self.name,
            self.env.uid,
            summary.requests,
            summary.disabled,
            summary.pending,
            summary.not_disabled,
            summary.not_registered,
            len(summary.problems),
        )
        return summary

    def _dr_ask_in_batches(self, wanted, summary):
        """``/registry/sync/search``, ``dr_batch_size`` registrants per request.

        Returns ``{partner id: DisabilityResult | reason}``.
        """
        return self._dci_search_registrants(
            wanted,
            self.dr_batch_size,
            summary,
            reg_record_type=mapping.REG_RECORD_TYPE,
            read_item=lambda item, identifier: self._dr_read_search_item(item, identifier[0]),
        )

    @staticmethod
    def _dr_read_search_item(item, id_type):
        if item is None:
            return "the DR's answer has no item for this registrant"
        if item.status == RequestStatus.RJCT:
            reason = item.status_reason_code.value if item.status_reason_code else "no reason code"
            message = f" ({item.status_reason_message})" if item.status_reason_message else ""
            return f"the DR rejected the search: {reason}{message}"
        if item.status != RequestStatus.SUCC:
            return f"the DR answered '{item.status.value}', not a final answer"
        try:
            record = mapping.first_record(item.data.reg_records if item.data else None)
            return mapping.parse_record(record, default_id_type=id_type)
        except mapping.InvalidRecord as exc:
            return f"invalid DR record: {exc}"

    def _dr_ask_one_by_one(self, wanted, summary):
        """``/registry/sync/disabled``, then ``get-disability-details`` for those who are."""
        answers = {}
        with self._dci_client() as client:
            for partner_id, (id_type, value) in wanted.items():
                criteria = {
                    "query_type": "idtype-value",
                    "query": mapping.idtype_query(id_type, value),
                }
                result = client.sync_call(
                    SYNC_DISABLED,
                    {"transaction_id": new_id(), "disabled_criteria": criteria},
                    path=self.path_sync_disabled or SYNC_DISABLED,
                )
                summary.requests += 1
                try:
                    items = result.message.disabled_response
                    if len(items) != 1:
                        raise mapping.InvalidRecord(
                            f"the DR answered {len(items)} items about one person"
                        )
                    item = items[0]
                    if item.status == RequestStatus.RJCT:
                        raise mapping.InvalidRecord(
                            "the DR rejected the request"
                            + (
                                f" ({item.status_reason_message})"
                                if item.status_reason_message
                                else ""
                            )
                        )
                    disabled = mapping.disabled_status(item.disabled_status.value)
                except mapping.InvalidRecord as exc:
                    answers[partner_id] = str(exc)
                    continue
                if not disabled:
                    # /disabled says nothing about being registered: left as it was
                    answers[partner_id] = mapping.DisabilityResult(
                        registered=None, is_disabled=False
                    )
                    continue
                details = client.sync_call(
                    SYNC_DISABILITY_DETAILS,
                    {"transaction_id": new_id(), "disabled_criteria": criteria},
                    path=self.path_sync_disability_details or SYNC_DISABILITY_DETAILS,
                )
                summary.requests += 1
                answer = self._dr_read_search_item(
                    next(iter(details.message.search_response), None), id_type
                )
                if isinstance(answer, mapping.DisabilityResult):
                    # /disabled said yes: that is the answer, the details add the codes
                    answer = mapping.DisabilityResult(
                        registered=True,
                        is_disabled=True,
                        status=answer.status,
                        level=answer.level,
                        infos=answer.infos,
                    )
                answers[partner_id] = answer
        return answers

    def _dr_store(self, partners, answers, summary):
        now = fields.Datetime.now()
        by_id = {partner.id: partner for partner in partners}
        for partner_id, answer in answers.items():
            partner = by_id[partner_id]
            if not isinstance(answer, mapping.DisabilityResult):
                summary.problems.append((partner.display_name, answer))
                continue
            partner._dr_apply(answer, self, now)
            if answer.registered is False:
                summary.not_registered += 1
            elif answer.is_disabled:
                summary.disabled += 1
            elif answer.status == mapping.PENDING:
                summary.pending += 1
            else:
                summary.not_disabled += 1

    # -- subscription and callbacks (notify, on-search) ---------------------------------------

    def action_dr_subscribe(self):
        """Subscribe to approved disability registrations (``reg_event_type`` REGISTER)."""
        self._dr_ensure()
        sent = self._dci_subscribe(
            mapping.REG_EVENT_REGISTER,
            "expression",
            mapping.APPROVED_FILTER,
            mapping.REG_RECORD_TYPE,
        )
        return self._dci_subscribed_notification(sent, self.env._("disability registry"))

    def _dci_process_callback(self, transaction, action, message):
        """Apply a whole DR callback with one identifier lookup (see ``_dci_handle_records``)."""
        if self.registry_type != "dr" or self.env.context.get("dr_collect") is not None:
            return super()._dci_process_callback(transaction, action, message)
        collected = []
        result = super(
            SppDciDataSource, self.with_context(dr_collect=collected)
        )._dci_process_callback(transaction, action, message)
        if collected:
            result = self._dr_apply_records(collected)
        return result

    def _dci_handle_records(self, records, *, action, transaction, reference_id, data):
        if self.registry_type != "dr":
            return super()._dci_handle_records(
                records,
                action=action,
                transaction=transaction,
                reference_id=reference_id,
                data=data,
            )
        collected = self.env.context.get("dr_collect")
        if collected is not None:
            collected.extend(records)
        else:
            self._dr_apply_records(records)
        return len(records)

    def _dr_apply_records(self, records):
        """Apply PWD_Person records the DR sent on its own; matched by identifier (1 query)."""
        default_type = self.dr_id_type_ids.sorted("sequence")[:1].code or None
        parsed, problems = [], []
        for record in records:
            try:
                parsed.append(mapping.parse_record(record, default_id_type=default_type))
            except mapping.InvalidRecord as exc:
                problems.append(str(exc))
        pairs = {pair for result in parsed for pair in result.identifiers}
        holders = (
            self.env["spp.registry.id"]
            .sudo()
            .search_fetch(
                [
                    ("id_type_id.code", "in", list({code for code, _v in pairs})),
                    ("value", "in", list({value for _c, value in pairs})),
                ],
                ["id_type_id", "value", "partner_id"],
            )
        )
        index = {(row.id_type_id.code, row.value): row.partner_id for row in holders}
        now = fields.Datetime.now()
        applied = 0
        for result in parsed:
            partners = {index[pair] for pair in result.identifiers if pair in index}
            if len(partners) != 1:
                problems.append(
                    "nobody in the registry holds its identifiers"
                    if not partners
                    else "its identifiers belong to several registrants"
                )
                continue
            partners.pop()._dr_apply(result, self, now)
            applied += 1
        summary = f"{applied} registrant(s) updated from the DR, {len(problems)} skipped"
        # the reasons name no one: identifiers and disabilities stay out of the server log
        _logger.info("DCI DR callback on %s: %s %s", self.name, summary, problems)
        return summary


class ResPartner(models.Model):
    _inherit = "res.partner"

    def _dr_apply(self, result, source, checked_at):
        """Write a :class:`~..mapping.DisabilityResult` (only what changed, lines included)."""
        self.ensure_one()
        partner = self.sudo()
        values = {
            name: value
            for name, value in result.values().items()
            if (partner[name] or False) != (value or False)
        }
        new_lines = sorted((info.values() for info in result.infos), key=_line_key)
        old_lines = sorted(
            (
                {name: line[name] for name in _LINE_FIELDS}
                for line in partner.dr_disability_info_ids
            ),
            key=_line_key,
        )
        if new_lines != old_lines:
            values["dr_disability_info_ids"] = [
                Command.delete(line.id) for line in partner.dr_disability_info_ids
            ] + [Command.create({**line, "data_source_id": source.id}) for line in new_lines]
        values.update(dr_checked_at=checked_at, dr_data_source_id=source.id)
        partner.write(values)


def _line_key(line):
    return [(name, str(line[name])) for name in _LINE_FIELDS]


_LINE_FIELDS = (
    "limitation_type",
    "functional_severity",
    "impairment_type",
    "impairment_level",
    "impairment_cause",
)
