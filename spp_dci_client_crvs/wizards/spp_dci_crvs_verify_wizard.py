# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
"""*Verify with CRVS*: the registrant's civil data next to what the CRVS records.

One ``/registry/sync/search`` (the client service: one envelope builder, one
signer, the answer verified) with an ``idtype-value`` search request per
identifier the registrant holds, BRN first; the answers are read with the
import's mapping (:mod:`..mapping`). The case worker ticks the CRVS values to
take; *Apply* writes them in one write and posts the change on the chatter.
"""

import json

from markupsafe import Markup

from odoo import Command, fields, models
from odoo.addons.spp_dci.dci.codes import RequestStatus
from odoo.addons.spp_dci_client.client.service import records_of
from odoo.addons.spp_dci_client.models.spp_dci_data_source import DCIClientUserError
from odoo.exceptions import UserError

from .. import mapping

#: Registrant fields compared with the CRVS record, in the order shown.
COMPARED_FIELDS = ("given_name", "addl_name", "family_name", "sex", "birthdate", "death_date")
NAME_FIELDS = ("given_name", "addl_name", "family_name")
#: Identifier types asked with first (a birth registration number names a CRVS record).
PREFERRED_TYPES = ("BRN", "UIN", "DRN")
#: At most this many identifiers are asked with (search_request items of one message).
MAX_IDENTIFIERS = 5
#: Records asked for per identifier.
MATCH_PAGE_SIZE = 5
NONE = "—"


class SppDciCrvsVerifyWizard(models.TransientModel):
    _name = "spp.dci.crvs.verify.wizard"
    _description = "Verify a registrant with a CRVS"

    partner_id = fields.Many2one("res.partner", string="Registrant", required=True, readonly=True)
    data_source_id = fields.Many2one(
        "spp.dci.data.source",
        string="CRVS",
        domain=[("registry_type", "=", "crvs")],
        default=lambda self: self.env["spp.dci.data.source"].search(
            [("registry_type", "=", "crvs")], limit=1
        ),
    )
    state = fields.Selection(
        [
            ("new", "Not looked up"),
            ("differs", "Differs"),
            ("same", "Same"),
            ("not_found", "Not found"),
            ("several", "Several match"),
            ("error", "Could not ask"),
        ],
        default="new",
        readonly=True,
    )
    message = fields.Text(readonly=True)
    asked_with = fields.Char(string="Looked up by", readonly=True)
    line_ids = fields.One2many("spp.dci.crvs.verify.line", "wizard_id", string="Differences")

    # -- look-up ----------------------------------------------------------------------

    def _identifiers(self):
        """``[(type code, value)]`` the registrant holds, BRN, UIN, DRN first."""
        rows = self.partner_id.sudo().registry_id_ids

        def order(row):
            code = row.id_type_id.code
            rank = PREFERRED_TYPES.index(code) if code in PREFERRED_TYPES else len(PREFERRED_TYPES)
            return (rank, row.id_type_id.sequence, row.id)

        return [(row.id_type_id.code, row.value) for row in rows.sorted(order)][:MAX_IDENTIFIERS]

    def _finish(self, state, message, lines=()):
        self.line_ids.unlink()
        self.write(
            {"state": state, "message": message, "line_ids": [Command.create(v) for v in lines]}
        )

    def _lookup(self):
        self.ensure_one()
        source = self.data_source_id
        if not source:
            return self._finish(
                "error",
                self.env._(
                    "No CRVS data source is configured: add one under DCI > Client > Data "
                    "Sources (registry type CRVS)."
                ),
            )
        source._crvs_check()
        identifiers = self._identifiers()
        self.asked_with = ", ".join(f"{code} {value}" for code, value in identifiers)
        if not identifiers:
            return self._finish(
                "error",
                self.env._(
                    "%s holds no identifier to look up in the CRVS: add a BRN or UIN on "
                    "the Identifiers tab.",
                    self.partner_id.display_name,
                ),
            )
        criteria = [
            source._dci_criteria(
                "idtype-value",
                {"type": code, "value": value},
                reg_record_type=mapping.REG_RECORD_TYPE,
                # one person is expected: a few records are enough to tell "several"
                pagination={"page_size": MATCH_PAGE_SIZE, "page_number": 1},
            )
            for code, value in identifiers
        ]
        try:
            with source._dci_client() as client:
                result = client.sync_search(criteria)
        except DCIClientUserError as exc:
            return self._finish(
                "error",
                self.env._(
                    "The CRVS %(crvs)s could not be asked: %(reason)s",
                    crvs=source.name,
                    reason=exc,
                ),
            )
        items = list(result.message.search_response) if result.message else []
        refused = sorted(
            {
                getattr(item.status_reason_code, "value", None) or "rjct"
                for item in items
                if item.status == RequestStatus.RJCT
            }
        )
        records = [record for item in items for record in records_of(item)]
        if not records and refused and len(refused) == len(items):
            return self._finish(
                "error",
                self.env._(
                    "The CRVS %(crvs)s refused the search (%(codes)s).",
                    crvs=source.name,
                    codes=", ".join(refused),
                ),
            )
        return self._compare(records)

    def _compare(self, records):
        people, unreadable = {}, []
        for record in records:
            try:
                person = mapping.parse_person(record, mapping.event_of(None, record))
            except mapping.InvalidRecord as exc:
                unreadable.append(str(exc))
                continue
            people.setdefault(frozenset(person.identifiers), person)  # the same record twice
        if not people:
            if unreadable:
                return self._finish(
                    "error",
                    self.env._("The CRVS record cannot be read: %s", "; ".join(unreadable)),
                )
            return self._finish(
                "not_found",
                self.env._(
                    "The CRVS %(crvs)s has no record of %(ids)s. Check the identifiers, or "
                    "whether the birth is registered there.",
                    crvs=self.data_source_id.name,
                    ids=self.asked_with,
                ),
            )
        if len(people) > 1:
            found = "; ".join(
                f"{p.display_name or NONE} ({p.identifiers_text()})" for p in people.values()
            )
            return self._finish(
                "several",
                self.env._(
                    "Several CRVS records match %(ids)s: %(found)s. The identifiers name "
                    "different people: correct them before verifying.",
                    ids=self.asked_with,
                    found=found,
                ),
            )
        (person,) = people.values()
        lines = self._field_lines(person) + self._identifier_lines(person)
        if not lines:
            return self._finish(
                "same",
                self.env._(
                    "The CRVS %(crvs)s records %(name)s as this registry does.",
                    crvs=self.data_source_id.name,
                    name=person.display_name or self.partner_id.display_name,
                ),
            )
        return self._finish(
            "differs",
            self.env._(
                "The CRVS %(crvs)s records %(count)s value(s) differently. Tick the CRVS "
                "values to take and click Apply.",
                crvs=self.data_source_id.name,
                count=len(lines),
            ),
            lines,
        )

    def _field_lines(self, person):
        partner = self.partner_id.sudo()
        lines = []
        for name, crvs_value in person.civil_values().items():
            ours = partner[name] or False
            if ours == crvs_value:
                continue
            lines.append(
                {
                    "field_name": name,
                    "label": partner._fields[name].string,
                    "our_value": _shown(partner, name, ours),
                    "crvs_value": _shown(partner, name, crvs_value),
                    "crvs_json": json.dumps(str(crvs_value)),
                    "can_apply": True,
                }
            )
        return sorted(lines, key=lambda line: COMPARED_FIELDS.index(line["field_name"]))

    def _identifier_lines(self, person):
        partner = self.partner_id.sudo()
        types = {t.code: t for t in self.env["spp.id.type"].sudo().search([])}
        held = {}
        for row in partner.registry_id_ids:
            held.setdefault(row.id_type_id.code, set()).add(row.value)
        registry_ids = self.env["spp.registry.id"].sudo()
        lines = []
        for code, value in person.identifiers:
            if code not in types or value in held.get(code, ()):
                continue
            line = {
                "field_name": f"id:{code}",
                "label": self.env._("Identifier %s", code),
                "our_value": ", ".join(sorted(held.get(code, ()))) or NONE,
                "crvs_value": value,
                "crvs_json": json.dumps(value),
                "can_apply": True,
            }
            other = registry_ids.search(
                [("id_type_id", "=", types[code].id), ("value", "=", value)], limit=1
            )
            if held.get(code):
                line.update(can_apply=False, note=self.env._("Another value: correct it by hand."))
            elif other:
                line.update(
                    can_apply=False,
                    note=self.env._("Held by %s", other.partner_id.display_name),
                )
            lines.append(line)
        return lines

    # -- apply ------------------------------------------------------------------------

    def action_lookup(self):
        self._lookup()
        return self._action()

    def action_apply(self):
        """Write the ticked CRVS values once and post the change on the registrant's chatter."""
        self.ensure_one()
        self.data_source_id._crvs_check()
        ticked = self.line_ids.filtered(lambda line: line.apply and line.can_apply)
        if not ticked:
            raise UserError(self.env._("Tick the CRVS values to take first."))
        partner = self.partner_id.sudo()
        values, changes = {}, []
        types = {t.code: t for t in self.env["spp.id.type"].sudo().search([])}
        for line in ticked:
            crvs_value = json.loads(line.crvs_json)
            if line.field_name.startswith("id:"):
                code = line.field_name[3:]
                values.setdefault("registry_id_ids", []).append(
                    Command.create({"id_type_id": types[code].id, "value": crvs_value})
                )
                changes.append((line.label, line.our_value, line.crvs_value))
                continue
            field = partner._fields[line.field_name]
            new = fields.Date.to_date(crvs_value) if field.type == "date" else crvs_value
            values[line.field_name] = new
            old = _shown(partner, line.field_name, partner[line.field_name])
            changes.append((line.label, old, line.crvs_value))
        if any(name in values for name in NAME_FIELDS):
            parts = {name: values.get(name, partner[name]) for name in NAME_FIELDS}
            values["name"] = partner._compose_registrant_name(
                parts["given_name"], parts["addl_name"], parts["family_name"]
            )
        partner.write(values)
        ended = {}
        if values.get("death_date"):
            ended = partner._crvs_end_memberships({partner.id: values["death_date"]})
        body = Markup("<p>%s</p><ul>%s</ul>") % (
            self.env._("Verified with the CRVS %s; values taken:", self.data_source_id.name),
            Markup("").join(
                Markup("<li>%s: %s &rarr; %s</li>") % (label, old, new)
                for label, old, new in changes
            ),
        )
        if ended.get(partner.id):
            body += Markup("<p>%s</p>") % self.env._(
                "Group memberships ended: %s", ", ".join(ended[partner.id])
            )
        partner.message_post(
            body=body,
            author_id=self.env.user.partner_id.id,
            message_type="comment",
            subtype_xmlid="mail.mt_note",
        )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Verified with CRVS"),
                "message": self.env._("%s value(s) taken from the CRVS.", len(changes)),
                "type": "success",
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def _action(self):
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Verify with CRVS"),
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
        }


def _shown(partner, name, value):
    """A value as the form shows it (selection label, ISO date), or a dash."""
    if not value:
        return NONE
    field = partner._fields[name]
    if field.type == "selection":
        return dict(field._description_selection(partner.env)).get(value, value)
    return str(value)


class SppDciCrvsVerifyLine(models.TransientModel):
    _name = "spp.dci.crvs.verify.line"
    _description = "Verify with CRVS: one difference"
    _order = "id"

    wizard_id = fields.Many2one("spp.dci.crvs.verify.wizard", required=True, ondelete="cascade")
    field_name = fields.Char(required=True, readonly=True)
    label = fields.Char(string="Field", readonly=True)
    our_value = fields.Char(string="This registry", readonly=True)
    crvs_value = fields.Char(string="CRVS", readonly=True)
    crvs_json = fields.Char(readonly=True)
    can_apply = fields.Boolean(readonly=True)
    apply = fields.Boolean(string="Take the CRVS value")
    note = fields.Char(readonly=True)
