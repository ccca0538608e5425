# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
"""Upsert CRVS records into the registry, one page at a time.

Used by the import (pages of a sync search) and by the callback handler
(``on-search``, ``notify``). Per page: every record is parsed first
(:mod:`..mapping`), then *one* query finds which registrants already hold the
page's identifiers, then each record is created, updated, left as it is, or
skipped with a reason. The page's new registrants are created together (one
batched ORM create); updates, and creates when the batch fails, run one per
savepoint, so a record that fails to write leaves nothing behind and the others
go on.

A failure that is not the record's is not a skip: concurrency errors
(serialization failure, deadlock, lock not available) end the transaction, and
the request or job that runs it is run again (``spp_dci_server``'s
``services/concurrency.py``). So does an identifier that another transaction
registered after this one started (a unique violation on ``spp_registry_id``):
run again, the import sees its holder and updates it.
"""

import psycopg2
from psycopg2 import errors

from odoo import Command
from odoo.addons.spp_dci_server.services.concurrency import RETRYABLE
from odoo.exceptions import ConcurrencyError, UserError, ValidationError
from odoo.models import BaseModel

from . import mapping
from .life_events import LifeEvents

CREATED = "created"
UPDATED = "updated"
UNCHANGED = "unchanged"
SKIPPED = "skipped"


class CRVSUpsert(LifeEvents):
    """Applies CRVS records to the registry and keeps the summary of one import run.

    ``env`` must be allowed to write registrants (the callers use sudo after
    their own access check); ``run`` is the ``spp.dci.crvs.import`` receiving
    the counters and the detail lines.
    """

    def __init__(self, env, run):
        self.env = env
        self.run = run
        self.counts = {CREATED: 0, UPDATED: 0, UNCHANGED: 0, SKIPPED: 0}
        self.lines = []
        self._pending = []
        self._pending_pairs = set()
        types = env["spp.id.type"].with_context(active_test=False).search_fetch([], ["code"])
        self.type_ids = {t.code: t.id for t in types}
        self.type_codes = {t.id: t.code for t in types}

    # -- one page ------------------------------------------------------------------------

    def apply(self, records, *, reg_event_type=None, event=None):
        """Apply one page of records; ``event`` forces birth/death, else it is read per record."""
        self.apply_events(
            [(record, event or mapping.event_of(reg_event_type, record)) for record in records]
        )

    def apply_events(self, items):
        """Apply ``[(record, "birth" | "death"), ...]`` as one page (one identifier lookup)."""
        parsed = []
        for record, record_event in items:
            try:
                person = mapping.parse_person(record, record_event)
            except mapping.InvalidRecord as exc:
                self._skip(str(exc), identifiers=_raw_identifiers(record))
                continue
            known = [pair for pair in person.identifiers if pair[0] in self.type_ids]
            if not known:
                codes = ", ".join(sorted({code for code, _value in person.identifiers}))
                self._skip(
                    f"no identifier of a type this registry knows ({codes})",
                    identifiers=person.identifiers_text(),
                )
                continue
            parsed.append((record_event, person, known))
        if not parsed:
            return
        pairs = {pair for _event, _person, known in parsed for pair in known}
        # the parents a birth names are looked up in the same query as the people
        pairs.update(
            parent
            for event, person, _known in parsed
            if event == mapping.BIRTH
            for parent in person.parents
            if parent and parent[0] in self.type_ids
        )
        holders = self._holders(pairs)
        partners = self.env["res.partner"].browse(set(holders.values()))
        # one read for the page: the fields we compare and the identifiers they hold
        partners.fetch(
            [
                "is_group",
                "given_name",
                "addl_name",
                "family_name",
                "name",
                "sex",
                "birthdate",
                "death_date",
                "parent1_id",
                "parent2_id",
                "registry_id_ids",
            ]
        )
        partners.registry_id_ids.fetch(["id_type_id", "value"])
        self._group_ids = set(partners.filtered("is_group").ids)
        self._pending = []  # [(person, known, values)]: the page's creates, done in one batch
        self._pending_pairs = set()
        self._births = {}  # newborn partner id -> person, for the households (after the page)
        self._deaths = {}  # partner id -> person, for the memberships (after the page)
        for record_event, person, known in parsed:
            if self._pending_pairs.intersection(known):
                # the same person twice in a page: create the first before matching the second
                self._create_pending(holders)
            self._apply_one(record_event, person, known, holders)
        self._create_pending(holders)
        self._join_households()
        self._end_memberships()

    def _holders(self, pairs):
        """``{(type code, value): partner id}`` for the identifiers already registered (1 query)."""
        if not pairs:
            return {}
        rows = self.env["spp.registry.id"].search_fetch(
            [
                ("id_type_id", "in", list({self.type_ids[code] for code, _v in pairs})),
                ("value", "in", list({value for _c, value in pairs})),
            ],
            ["id_type_id", "value", "partner_id"],
        )
        found = {}
        for row in rows:
            pair = (self.type_codes[row.id_type_id.id], row.value)
            if pair in pairs:
                found[pair] = row.partner_id.id
        return found

    def _apply_one(self, event, person, known, holders):
        ids_text = person.identifiers_text()
        matches = sorted({holders[pair] for pair in known if pair in holders})
        if len(matches) > 1:
            self._skip(
                "its identifiers belong to different registrants "
                f"({', '.join(str(m) for m in matches)})",
                identifiers=ids_text,
            )
            return
        if not matches:
            if event == mapping.DEATH:
                self._skip("nobody in the registry holds these identifiers", identifiers=ids_text)
                return
            self._create(person, known, holders)
            return
        partner = self.env["res.partner"].browse(matches[0])
        if partner.is_group:
            self._skip(
                "the identifiers belong to a group, not an individual",
                identifiers=ids_text,
                partner=partner,
            )
            return
        self._update(partner, event, person, known, holders)

    def _create(self, person, known, holders):
        values = {
            "is_registrant": True,
            "is_group": False,
            "crvs_import_id": self.run.id,
            **person.values_for(mapping.BIRTH),
            **self._parent_values(person, holders),
            "registry_id_ids": [
                Command.create({"id_type_id": self.type_ids[code], "value": value})
                for code, value in known
            ],
        }
        self._pending.append((person, known, values))
        self._pending_pairs.update(known)

    def _create_pending(self, holders):
        """Create the pending registrants: one batch, else one savepoint each (to skip the bad)."""
        pending, self._pending, self._pending_pairs = self._pending, [], set()
        if not pending:
            return
        partners = None
        # No "Contact created" message nor creator follower per registrant (half the cost of
        # a create): the run's lines say who the import created. Updates stay tracked.
        model = self.env["res.partner"].with_context(tracking_disable=True)
        try:
            with self.env.cr.savepoint():
                partners = model.create([values for _p, _k, values in pending])
        except (psycopg2.Error, ValidationError, UserError):
            pass  # one of them is refused: find which, one by one
        for index, (person, known, values) in enumerate(pending):
            if partners is not None:
                partner = partners[index]
            else:
                partner = self._write(lambda values=values: model.create(values), person)
                if partner is None:
                    continue
            for pair in known:
                holders[pair] = partner.id
            self._births[partner.id] = person
            self._count(
                CREATED,
                partner=partner,
                identifiers=person.identifiers_text(),
                detail=person.display_name,
            )

    def _update(self, partner, event, person, known, holders):
        held = {}
        for registry_id in partner.registry_id_ids:
            held.setdefault(self.type_codes[registry_id.id_type_id.id], set()).add(
                registry_id.value
            )
        new_ids = []
        for code, value in known:
            if value in held.get(code, ()):
                continue
            if held.get(code):
                # Another value of the same type: a human must decide which one is right.
                self._skip(
                    f"{code} differs: the registry has {', '.join(sorted(held[code]))}, "
                    f"the CRVS record {value}",
                    identifiers=person.identifiers_text(),
                    partner=partner,
                )
                return
            new_ids.append((code, value))
        wanted = person.values_for(event)
        if event == mapping.BIRTH:
            wanted.update(self._parent_values(person, holders, partner.id))
        changes = {
            name: value
            for name, value in wanted.items()
            if (_plain(partner[name]) or False) != (value or False)
        }
        if event == mapping.BIRTH:
            self._births[partner.id] = person
        if person.death_date:
            self._deaths[partner.id] = person
        if not changes and not new_ids:
            self._count(UNCHANGED, partner=partner)
            return
        values = dict(changes)
        if new_ids:
            values["registry_id_ids"] = [
                Command.create({"id_type_id": self.type_ids[code], "value": value})
                for code, value in new_ids
            ]

        def write():
            partner.write(values)
            return partner

        detail = _describe_update(partner, changes, new_ids)  # before the write: old values
        if self._write(write, person) is None:
            self._births.pop(partner.id, None)
            self._deaths.pop(partner.id, None)
            return
        for pair in new_ids:
            holders[pair] = partner.id
        self._count(
            UPDATED,
            partner=partner,
            identifiers=person.identifiers_text(),
            detail=detail,
        )

    def _write(self, func, person):
        """Run ``func`` in a savepoint; a failure skips the record with the reason.

        Concurrency errors are raised for the whole transaction to be run again.
        """
        try:
            with self.env.cr.savepoint():
                return func()
        except RETRYABLE:
            raise
        except errors.UniqueViolation as exc:
            if exc.diag.table_name != self.env["spp.registry.id"]._table:
                return self._skip_unwritten(exc, person)
            # Our lookup did not see the holder: it was registered by a transaction that
            # committed after ours began. Run again, the holder is found and updated.
            raise ConcurrencyError(
                f"an identifier of {person.identifiers_text()} was registered meanwhile"
            ) from exc
        except (psycopg2.Error, ValidationError, UserError) as exc:
            return self._skip_unwritten(exc, person)

    def _skip_unwritten(self, exc, person):
        reason = getattr(exc, "pgerror", None) or str(exc)
        self._skip(
            f"could not be written: {reason.strip().splitlines()[0]}",
            identifiers=person.identifiers_text(),
        )

    # -- summary ----------------------------------------------------------------------

    def _count(self, outcome, *, partner=None, identifiers=None, detail=None):
        self.counts[outcome] += 1
        if outcome == UNCHANGED:  # unchanged records are only counted
            return
        self.lines.append(
            {
                "outcome": outcome,
                "partner_id": partner.id if partner else False,
                "identifiers": identifiers,
                "detail": detail,
            }
        )

    def _note(self, partner_id, text, *, changed=True):
        """Add ``text`` to the line of ``partner_id``.

        ``changed``: the registry was changed for this record (a membership), so
        a record counted unchanged becomes updated; else only existing lines say it.
        """
        for line in reversed(self.lines):
            if line["partner_id"] == partner_id and line["outcome"] in (CREATED, UPDATED):
                line["detail"] = "; ".join(part for part in (line["detail"], text) if part)
                return
        if not changed:
            return
        self.counts[UNCHANGED] -= 1
        person = self._births.get(partner_id) or self._deaths.get(partner_id)
        self._count(
            UPDATED,
            partner=self.env["res.partner"].browse(partner_id),
            identifiers=person.identifiers_text() if person else None,
            detail=text,
        )

    def _skip(self, reason, *, identifiers=None, partner=None):
        self._count(SKIPPED, partner=partner, identifiers=identifiers, detail=reason)

    def flush(self):
        """Write the counters and the new lines on the run."""
        values = {
            f"{outcome}_count": self.run[f"{outcome}_count"] + count
            for outcome, count in self.counts.items()
        }
        values["record_count"] = self.run.record_count + sum(self.counts.values())
        if self.lines:
            values["line_ids"] = [Command.create(line) for line in self.lines]
        self.run.write(values)
        self.counts = dict.fromkeys(self.counts, 0)
        self.lines = []


#: How the import line names what it changed (``name`` follows the name parts: not repeated).
CHANGE_LABELS = {
    "given_name": "given name",
    "addl_name": "additional name",
    "family_name": "family name",
    "sex": "sex",
    "birthdate": "birth date",
    "death_date": "death date",
    "parent1_id": "parent 1",
    "parent2_id": "parent 2",
}


def _describe_update(partner, changes, new_ids):
    """What an update changes, in words: ``family name Diallo → Sow, new BRN B-1``."""
    parts = []
    for name, label in CHANGE_LABELS.items():
        if name not in changes:
            continue
        field = partner._fields[name]
        old, new = partner[name], changes[name]
        if field.type == "selection":
            labels = dict(field._description_selection(partner.env))
            old, new = labels.get(old, old), labels.get(new, new)
        elif field.type == "many2one":
            old = old.display_name
            new = partner.env[field.comodel_name].browse(new).display_name if new else None
        old_text = str(old) if old else "(empty)"
        new_text = str(new) if new else "(empty)"
        parts.append(f"{label} {old_text} → {new_text}")
    parts += [f"new {code} {value}" for code, value in new_ids]
    return ", ".join(parts)


def _plain(value):
    """A field value comparable with what the mapping gives (a many2one as its id)."""
    return value.id if isinstance(value, BaseModel) else value


def _raw_identifiers(record):
    """Best-effort identifiers of an invalid record, for the skip line."""
    raw = record.get("identifier") if isinstance(record, dict) else None
    raw = [raw] if isinstance(raw, dict) else raw
    if not isinstance(raw, list):
        return None
    parts = [
        f"{item.get('identifier_type')} {item.get('identifier_value')}"
        for item in raw
        if isinstance(item, dict)
    ]
    return ", ".join(parts) or None
