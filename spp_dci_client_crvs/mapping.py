# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
"""CRVS person records (DCI JSON-LD) -> registrant values, and the CRVS queries.

Plain Python, no Odoo: unit-tested on its own. The record vocabulary is
``CRVS_Person`` (schemas/extensions/crvs/v1/data/CRVSPerson.jsonld), a
``Person`` (schemas/core/v1/data/Person.jsonld) with ``identifier``
(``Identifier``: ``identifier_type`` + ``identifier_value``), ``name``
(``Name``: ``given_name``, ``second_name``, ``surname``...), ``sex``
(``SexCategoryEnum``), ``birth_date`` and ``death_date`` (``DateTime``).

Where the spec is loose (see readme/DEVELOP.md):

* ``identifier`` is a list in the sample messages and a single object in the
  crvs bundle's example: both are read.
* ``Name`` keys are read as the vocabulary spells them; the older sample
  spelling (``first_name``/``middle_name``/``last_name``) is read as a fallback.
* A ``DateTime`` may be a date or a date-time; its date part is used.
* An identifier type may be bare (``UIN``) or prefixed (``ns:org:IdType:UIN``).
"""

from dataclasses import dataclass
from datetime import date, datetime

BIRTH = "birth"
DEATH = "death"
EVENTS = (BIRTH, DEATH)

#: ``reg_event_type`` of each event: RegistryEventTypeEnum (core/v1/api-schemas:
#: LiveBirth, Death) in the crvs bundle's spelling ("spdci-common:RegistryEventType:LiveBirth").
REG_EVENT_TYPES = {
    BIRTH: "spdci-common:RegistryEventType:LiveBirth",
    DEATH: "spdci-common:RegistryEventType:Death",
}
#: The Person attribute that dates each event, used in the search predicate.
EVENT_DATE_ATTRIBUTES = {BIRTH: "birth_date", DEATH: "death_date"}
#: ``reg_record_type`` we ask for (the crvs bundle's example value).
REG_RECORD_TYPE = "spdci-extensions-dci:Person"

#: RegistryEventTypeEnum and VitalEventTypeEnum names, lower-cased, per event.
_EVENT_NAMES = {
    "livebirth": BIRTH,
    "live_birth": BIRTH,
    "birth": BIRTH,
    "death": DEATH,
}
#: The CRVS_Person properties naming the parents (extensions/crvs/v1/data/CRVSPerson.jsonld).
PARENT_KEYS = ("parent1_identifier", "parent2_identifier")
#: core/v1/code/SexCategoryEnum.jsonld
SEX_CODES = ("male", "female", "other", "unknown")

_NAME_KEYS = {
    "given_name": ("given_name", "first_name"),
    "addl_name": ("second_name", "middle_name"),
    "family_name": ("surname", "last_name"),
}


class InvalidRecord(ValueError):
    """A record that cannot be imported; ``str()`` is the reason shown to users."""


@dataclass(frozen=True)
class CRVSPerson:
    """What we take from one CRVS record."""

    identifiers: tuple  # ((type code, value), ...), in record order, no duplicates
    given_name: str | None = None
    addl_name: str | None = None
    family_name: str | None = None
    sex: str | None = None
    birthdate: date | None = None
    death_date: date | None = None
    #: ``parent1_identifier``, ``parent2_identifier``: ((type code, value) or None, ...)
    parents: tuple = ()

    @property
    def has_name(self):
        return bool(self.given_name or self.family_name)

    @property
    def display_name(self):
        return " ".join(p for p in (self.given_name, self.addl_name, self.family_name) if p)

    def values_for(self, event) -> dict:
        """Registrant (res.partner) values this record sets for ``event``.

        A birth record carries the civil data of the person (names, sex, birth
        date, and a death date when it has one); a death record only dates the
        death: we do not rewrite names from a death certificate.
        """
        if event == DEATH:
            return {"death_date": self.death_date}
        values = {}
        if self.has_name:
            values.update(
                given_name=self.given_name or False,
                addl_name=self.addl_name or False,
                family_name=self.family_name or False,
                name=self.display_name,
            )
        if self.sex:
            values["sex"] = self.sex
        if self.birthdate:
            values["birthdate"] = self.birthdate
        if self.death_date:
            values["death_date"] = self.death_date
        return values

    def civil_values(self) -> dict:
        """Every registrant value the record carries, whatever its event (for *Verify*)."""
        values = {
            "given_name": self.given_name,
            "addl_name": self.addl_name,
            "family_name": self.family_name,
            "sex": self.sex,
            "birthdate": self.birthdate,
            "death_date": self.death_date,
        }
        return {name: value for name, value in values.items() if value}

    def identifiers_text(self):
        return ", ".join(f"{code} {value}" for code, value in self.identifiers)


def event_query(event, date_from, date_to) -> list:
    """The search ``query`` of a ``predicate`` search for ``event`` dated in the range.

    ``ExpPredicateWithConditionList`` of the crvs bundle (its description: "search
    or subscribe to birth, death events"): ``<attr> ge <from> and <attr> le <to>``,
    both ends included, dates as ``YYYY-MM-DD``.
    """
    if event not in EVENTS:
        raise ValueError(f"unknown event {event!r}")
    if date_from and date_to and date_from > date_to:
        raise ValueError("the start date is after the end date")
    attribute = EVENT_DATE_ATTRIBUTES[event]
    expressions = []
    if date_from:
        expressions.append(
            {"attribute_name": attribute, "operator": "ge", "attribute_value": str(date_from)}
        )
    if date_to:
        expressions.append(
            {"attribute_name": attribute, "operator": "le", "attribute_value": str(date_to)}
        )
    if not expressions:
        raise ValueError("a date range needs a start or an end date")
    item = {"seq_num": 1, "expression1": expressions[0]}
    if len(expressions) == 2:
        item.update(condition="and", expression2=expressions[1])
    return [item]


def subscription_filter(event, since) -> list:
    """The ``filter`` of a subscription to ``event`` (events dated ``since`` onwards)."""
    return [
        {
            "seq_num": 1,
            "expression1": {
                "attribute_name": EVENT_DATE_ATTRIBUTES[event],
                "operator": "ge",
                "attribute_value": str(since),
            },
        }
    ]


def event_of(reg_event_type=None, record=None):
    """``birth`` or ``death``: from ``reg_event_type`` when it names one, else the record.

    A record with a ``death_date`` is a death; any other record a birth.
    """
    if isinstance(reg_event_type, str) and reg_event_type:
        name = reg_event_type.rsplit(":", 1)[-1].strip().lower()
        if name in _EVENT_NAMES:
            return _EVENT_NAMES[name]
    if isinstance(record, dict) and record.get("death_date"):
        return DEATH
    return BIRTH


def identifier_code(identifier_type) -> str:
    """``UIN`` from ``UIN`` or ``ns:org:IdType:UIN``."""
    return str(identifier_type).rsplit(":", 1)[-1].strip()


def parse_date(value, what):
    """The date of a DCI ``DateTime`` (``YYYY-MM-DD`` or RFC 3339); None when empty."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise InvalidRecord(f"{what} {value!r} is not a date")
    text = value.strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        raise InvalidRecord(f"{what} {value!r} is not a date") from None


def parse_identifiers(record) -> tuple:
    raw = record.get("identifier")
    if isinstance(raw, dict):
        raw = [raw]
    if raw in (None, ""):
        raw = []
    if not isinstance(raw, list):
        raise InvalidRecord("identifier is neither an Identifier nor a list of them")
    found = []
    for item in raw:
        if not isinstance(item, dict):
            raise InvalidRecord("an identifier is not an Identifier object")
        id_type, value = item.get("identifier_type"), item.get("identifier_value")
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(id_type, str) or not id_type.strip():
            raise InvalidRecord("an identifier has no identifier_type")
        if not isinstance(value, str) or not value.strip():
            raise InvalidRecord(f"identifier {id_type} has no identifier_value")
        pair = (identifier_code(id_type), value.strip())
        if pair not in found:
            found.append(pair)
    if not found:
        raise InvalidRecord("the record has no identifier")
    return tuple(found)


def parse_parent(record, key):
    """``(type code, value)`` of ``parent1_identifier`` / ``parent2_identifier``, else None.

    The CRVS_Person vocabulary's ``Identifier``; the older PersonRecord spelling
    (``identifier`` for the value) is read too. A parent identifier that is not
    readable is ignored: it does not make the person's own record invalid.
    """
    raw = record.get(key)
    if isinstance(raw, list):
        raw = raw[0] if len(raw) == 1 else None
    if not isinstance(raw, dict):
        return None
    id_type = raw.get("identifier_type")
    value = raw.get("identifier_value", raw.get("identifier"))
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(id_type, str) or not id_type.strip():
        return None
    if not isinstance(value, str) or not value.strip():
        return None
    return (identifier_code(id_type), value.strip())


def _name_parts(record):
    name = record.get("name")
    if name in (None, ""):
        return {}
    if not isinstance(name, dict):
        raise InvalidRecord("name is not a Name object")
    parts = {}
    for field_name, keys in _NAME_KEYS.items():
        for key in keys:
            value = name.get(key)
            if value not in (None, ""):
                if not isinstance(value, str):
                    raise InvalidRecord(f"name.{key} is not a string")
                parts[field_name] = " ".join(value.split())
                break
    return parts


def parse_person(record, event, *, today=None) -> CRVSPerson:
    """Read one CRVS record for ``event``; raises :class:`InvalidRecord` with the reason."""
    if not isinstance(record, dict):
        raise InvalidRecord("the record is not a JSON object")
    identifiers = parse_identifiers(record)
    names = _name_parts(record)
    sex = record.get("sex")
    if sex in (None, ""):
        sex = None
    elif not isinstance(sex, str) or sex.strip().lower() not in SEX_CODES:
        raise InvalidRecord(f"sex {sex!r} is not a SexCategoryEnum code ({', '.join(SEX_CODES)})")
    else:
        sex = sex.strip().lower()
    birthdate = parse_date(record.get("birth_date"), "birth_date")
    death_date = parse_date(record.get("death_date"), "death_date")
    today = today or date.today()
    for what, value in (("birth_date", birthdate), ("death_date", death_date)):
        if value and value > today:
            raise InvalidRecord(f"{what} {value} is in the future")
    if birthdate and death_date and death_date < birthdate:
        raise InvalidRecord(f"death_date {death_date} is before birth_date {birthdate}")
    if event == BIRTH:
        if not birthdate:
            raise InvalidRecord("a birth record without birth_date")
        if not names.get("given_name") and not names.get("family_name"):
            raise InvalidRecord("a birth record with neither a given name nor a surname")
    elif event == DEATH:
        if not death_date:
            raise InvalidRecord("a death record without death_date")
    else:
        raise ValueError(f"unknown event {event!r}")
    return CRVSPerson(
        identifiers=identifiers,
        sex=sex,
        birthdate=birthdate,
        death_date=death_date,
        parents=tuple(parse_parent(record, key) for key in PARENT_KEYS),
        **names,
    )
