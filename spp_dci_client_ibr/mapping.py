# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
"""IBR answers -> programme enrolments of a registrant. Plain Python, no Odoo.

An IBR search returns ``Beneficiary`` records
(schemas/extensions/ibr/v1/data/Beneficiary.jsonld): ``programme_identifier``
(``Programme``: ``programme_identifier``, ``programme_name``...),
``enrollment_date``, ``enrollment_status`` (EnrollmentStatusEnum) and
``status_change_date``. The spec's own examples nest it differently: the
ibr bundle puts ``programme_identifier`` inside ``member`` and wraps the
programme as ``{"programme": {...}, "enrolment_date", "enrolment_status",
...}`` (spelled *enrolment*); the sample answer does the same at the top.
All three shapes are read (readme/DEVELOP.md).

* A status may be a code (``"1"``) or its label (``"Active"``); an unknown
  one makes the record invalid (skipped with the reason).
* Dates are ``DateTime``: a date or an RFC 3339 date-time. The bundle's
  example also writes ``02.05.2024``; a date we cannot read is left empty
  rather than hiding the enrolment.
* Enrolled means: at least one enrolment whose status is Active, or that
  carries no status at all (the IBR holds it as an enrolment).
"""

from dataclasses import dataclass
from datetime import date, datetime

#: extensions/ibr/v1/code/EnrollmentStatusEnum.jsonld (codes and labels verbatim)
ENROLMENT_STATUSES = [("1", "Active"), ("2", "Deceased"), ("3", "Graduated"), ("4", "Suspended")]
ACTIVE = "1"
#: ``reg_record_type`` we ask for: the IBR search returns Beneficiary records
REG_RECORD_TYPE = "Beneficiary"


class InvalidRecord(ValueError):
    """An IBR record we cannot use; ``str()`` is the reason shown to users."""


@dataclass(frozen=True)
class Enrolment:
    programme_identifier: str
    programme_name: str | None = None
    status: str | None = None
    enrolment_date: date | None = None
    status_change_date: date | None = None

    @property
    def is_active(self):
        return self.status in (None, ACTIVE)

    @property
    def label(self):
        if self.programme_name and self.programme_name != self.programme_identifier:
            return f"{self.programme_name} ({self.programme_identifier})"
        return self.programme_identifier

    def values(self):
        return {
            "programme_identifier": self.programme_identifier,
            "programme_name": self.programme_name or False,
            "enrolment_status": self.status or False,
            "enrolment_date": self.enrolment_date or False,
            "status_change_date": self.status_change_date or False,
        }


def status_code(value):
    if value in (None, ""):
        return None
    text = str(value).strip()
    bare = text.rsplit(":", 1)[-1]
    for key, label in ENROLMENT_STATUSES:
        if bare == key or text.lower() == label.lower():
            return key
    allowed = ", ".join(f"{key} ({label})" for key, label in ENROLMENT_STATUSES)
    raise InvalidRecord(f"enrolment status {value!r} is not one of {allowed}")


def parse_date(value):
    """The date of a DCI ``DateTime``; None when empty or unreadable (see module doc)."""
    if isinstance(value, list):  # status_change_date is a list in the vocabulary: the last one
        value = value[-1] if value else None
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        return None


def _first(mapping_, *keys):
    for key in keys:
        value = mapping_.get(key)
        if value not in (None, "", [], {}):
            return value
    return None


def _as_list(value, what):
    if value in (None, "", [], {}):
        return []
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list) and all(isinstance(item, dict) for item in value):
        return value
    raise InvalidRecord(f"{what} is not a Programme object or a list of them")


def parse_beneficiary(record) -> list:
    """The enrolments one Beneficiary record reports (possibly none)."""
    if not isinstance(record, dict):
        raise InvalidRecord("the record is not a JSON object")
    member = record.get("member") if isinstance(record.get("member"), dict) else {}
    entries = _as_list(
        _first(record, "programme_identifier") or _first(member, "programme_identifier"),
        "programme_identifier",
    )
    enrolments = []
    for entry in entries:
        programme = entry.get("programme") if isinstance(entry.get("programme"), dict) else entry
        identifier = programme.get("programme_identifier")
        if isinstance(identifier, int) and not isinstance(identifier, bool):
            identifier = str(identifier)
        if not isinstance(identifier, str) or not identifier.strip():
            raise InvalidRecord("a programme has no programme_identifier")
        name = programme.get("programme_name")
        dates_from = (entry, record)  # the entry's own values first, then the record's

        def pick(*keys, sources=dates_from):
            for source in sources:
                value = _first(source, *keys)
                if value is not None:
                    return value
            return None

        enrolments.append(
            Enrolment(
                programme_identifier=identifier.strip(),
                programme_name=name.strip() if isinstance(name, str) and name.strip() else None,
                status=status_code(pick("enrollment_status", "enrolment_status")),
                enrolment_date=parse_date(pick("enrollment_date", "enrolment_date")),
                status_change_date=parse_date(pick("status_change_date")),
            )
        )
    return enrolments


def parse_records(records) -> list:
    """All enrolments of a search answer's records, one per programme (the latest wins)."""
    by_programme = {}
    for record in records:
        for enrolment in parse_beneficiary(record):
            by_programme[enrolment.programme_identifier] = enrolment
    return list(by_programme.values())


def enrolled_status(value) -> bool:
    """``enrolled_status`` of ``/registry/sync/enrolled`` ('yes' / 'no')."""
    if value == "yes":
        return True
    if value == "no":
        return False
    raise InvalidRecord(f"enrolled_status {value!r} is neither 'yes' nor 'no'")


def warning(enrolments) -> str | None:
    """The "Already enrolled in X, Y" warning for the active enrolments (None: none)."""
    active = [e.label for e in enrolments if e.is_active]
    if not active:
        return None
    return "Already enrolled in " + ", ".join(sorted(active))
