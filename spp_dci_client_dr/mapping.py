# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
"""Disability registry (DR) answers -> registrant disability values. Plain Python, no Odoo.

The DR returns a ``PWD_Person`` (schemas/extensions/dr/v1/data/PWDPerson.jsonld):
``personal_details`` (a ``Member``), ``disability_status``
(DisabilityStatusEnum), ``disability_status_level`` (DisabilityLevelEnum) and
``disability_details`` (``DisabilityDetails``: impairment type, level,
cause, onset). The ``Member`` of the core vocabulary carries ``is_disabled``
and ``disability_info`` (``DisabilityInfo``: FunctionalLimitationType and
FunctionalSeverityEnum, the Washington Group short set). Codes are kept as
the spec codes them (``MOB_SS``, ``"3"``...); a code may also arrive as its
label (``Approved``) or prefixed (``status:0``), as the spec examples do.

Where the spec is silent (readme/DEVELOP.md):

* *is disabled*: an explicit ``is_disabled`` wins; else ``disability_status``
  (Approved: yes; Pending or Expired: no); else being held in the DR at all.
  A person the DR does not know is not disabled (``registered`` is False).
* one line per impairment: a ``DisabilityDetails`` impairment and the
  ``DisabilityInfo`` limitation of the same domain (``LIMITATION_OF_IMPAIRMENT``)
  are one line; a limitation without an impairment of its domain is a line of
  its own.
* an unknown code is an invalid record (skipped with the reason), so that
  targeting never filters on values it cannot interpret.
"""

from dataclasses import dataclass, field

#: core/v1/code/FunctionalLimitationType.jsonld (= DisabilityTypeEnum)
LIMITATION_TYPES = [
    ("VIS_SS", "Vision"),
    ("HEAR_SS", "Hearing"),
    ("MOB_SS", "Mobility"),
    ("COG_SS", "COGNITION (REMEMBERING)"),
    ("SC_SS", "Self care"),
    ("COM_SS", "Communication"),
]
#: core/v1/code/FunctionalSeverityEnum.jsonld
FUNCTIONAL_SEVERITIES = [
    ("1", "No difficulty"),
    ("2", "Some difficulty"),
    ("3", "A lot difficulty"),
    ("4", "Cannot do it at all"),
]
#: extensions/dr/v1/code/DisabilityStatusEnum.jsonld
DISABILITY_STATUSES = [("0", "Approved"), ("1", "Pending"), ("2", "Expired")]
#: extensions/dr/v1/code/DisabilityLevelEnum.jsonld
DISABILITY_LEVELS = [
    ("1", "High Support Needs (sometimes called very severe or profound)"),
    ("2", "Severe"),
    ("3", "Moderate"),
    ("4", "Mild"),
]
#: extensions/dr/v1/code/ImpairementType.jsonld
IMPAIRMENT_TYPES = [
    ("1", "Vision"),
    ("2", "Hearing"),
    ("3", "Mobility"),
    ("4", "Cognitive"),
    ("5", "Speech"),
    ("6", "Mental"),
]
#: extensions/dr/v1/code/ImpairmentLevel.jsonld
IMPAIRMENT_LEVELS = [("1", "Mild"), ("2", "Moderate"), ("3", "Severe"), ("4", "Extreme")]

APPROVED = "0"
#: DisabilityStatusEnum "Pending": still under assessment (neither with nor without)
PENDING = "1"
#: ImpairmentType -> the FunctionalLimitationType of the same domain, to show the
#: impairment and its functional limitation on one line (Mental has no counterpart)
LIMITATION_OF_IMPAIRMENT = {
    "1": "VIS_SS",
    "2": "HEAR_SS",
    "3": "MOB_SS",
    "4": "COG_SS",
    "5": "COM_SS",
}
#: ``reg_record_type`` / ``notify_record_type`` (the dr bundle's example value)
REG_RECORD_TYPE = "spdci-extensions-dci:DisabledPerson"
#: the only ``reg_event_type`` of the dr bundle's notify and subscribe
REG_EVENT_REGISTER = "REGISTER"
#: subscription filter of the dr sample (processflow4): approved disability registrations
APPROVED_FILTER = {
    "type": "ns:org:QueryType:NoSql",
    "value": {
        "expression": {
            "collection": "DRPerson",
            "query": {"$and": [{"disability_status": {"$eq": "Approved"}}]},
        }
    },
}
_TRUE = {"true", "yes", "1"}
_FALSE = {"false", "no", "0"}


class InvalidRecord(ValueError):
    """A DR answer we cannot use; ``str()`` is the reason shown to users."""


@dataclass(frozen=True)
class DisabilityInfo:
    """One line: a functional limitation (DisabilityInfo) or an impairment (DisabilityDetails)."""

    limitation_type: str | None = None
    functional_severity: str | None = None
    impairment_type: str | None = None
    impairment_level: str | None = None
    impairment_cause: str | None = None

    def values(self):
        return {
            "limitation_type": self.limitation_type or False,
            "functional_severity": self.functional_severity or False,
            "impairment_type": self.impairment_type or False,
            "impairment_level": self.impairment_level or False,
            "impairment_cause": self.impairment_cause or False,
        }


@dataclass(frozen=True)
class DisabilityResult:
    """What the DR says about one person."""

    registered: bool | None  # None: not known (/registry/sync/disabled answered 'no')
    is_disabled: bool
    status: str | None = None
    level: str | None = None
    infos: tuple = ()
    identifiers: tuple = field(default=(), compare=False)  # ((type, value), ...) when given

    @property
    def max_severity(self):
        """The highest FunctionalSeverityEnum code of the lines (targeting filters on it)."""
        severities = [i.functional_severity for i in self.infos if i.functional_severity]
        return max(severities) if severities else None

    def values(self) -> dict:
        """Registrant (res.partner) values, without the lines and the check's metadata."""
        values = {
            "dr_is_disabled": self.is_disabled,
            "dr_disability_status": self.status or False,
            "dr_disability_level": self.level or False,
            "dr_functional_severity": self.max_severity or False,
        }
        if self.registered is not None:
            values["dr_registered"] = self.registered
        return values


NOT_REGISTERED = DisabilityResult(registered=False, is_disabled=False)


def code(value, codes, what):
    """The spec code of ``value``: a code, a prefixed code (``status:0``) or a label."""
    if value in (None, ""):
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise InvalidRecord(f"{what} {value!r} is not a code")
    text = value.strip()
    bare = text.rsplit(":", 1)[-1]
    for key, label in codes:
        if bare.lower() == key.lower() or text.lower() == label.lower():
            return key
    allowed = ", ".join(f"{key} ({label})" for key, label in codes)
    raise InvalidRecord(f"{what} {value!r} is not one of {allowed}")


def flag(value, what):
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InvalidRecord(f"{what} {value!r} is not a yes/no value")


def _list(value, what):
    if value in (None, "", {}):
        return []
    if isinstance(value, dict):
        return [value]
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise InvalidRecord(f"{what} is not a list of objects")
    return value


def identifiers_of(record, default_type=None) -> tuple:
    """``((type, value), ...)`` the record names its person by.

    ``personal_details.member_identifier`` / ``.identifier`` / the Member's
    ``demographic_info.identifier`` / the record's own ``identifier``; an
    identifier given as a bare string (the DR example: ``"identifier": "123456"``)
    gets ``default_type``.
    """
    found = []
    details = record.get("personal_details")
    details = details if isinstance(details, dict) else {}
    demographic = details.get("demographic_info")
    demographic = demographic if isinstance(demographic, dict) else {}
    for raw in (
        details.get("member_identifier"),
        details.get("identifier"),
        demographic.get("identifier"),
        record.get("identifier"),
    ):
        if isinstance(raw, str | int) and not isinstance(raw, bool) and str(raw).strip():
            if default_type:
                found.append((default_type, str(raw).strip()))
            continue
        for item in raw if isinstance(raw, list) else [raw]:
            if not isinstance(item, dict):
                continue
            id_type, value = item.get("identifier_type"), item.get("identifier_value")
            if isinstance(id_type, str) and value not in (None, ""):
                pair = (id_type.rsplit(":", 1)[-1].strip(), str(value).strip())
                if pair not in found:
                    found.append(pair)
    return tuple(found)


def parse_record(record, *, default_id_type=None) -> DisabilityResult:
    """A PWD_Person (or a Member with disability info) -> :class:`DisabilityResult`."""
    if record in (None, {}, []):
        return NOT_REGISTERED
    if not isinstance(record, dict):
        raise InvalidRecord("the record is not a JSON object")
    member = record.get("personal_details")
    member = member if isinstance(member, dict) else {}
    limitations = []
    for item in _list(
        record.get("disability_info") or member.get("disability_info"), "disability_info"
    ):
        info = DisabilityInfo(
            limitation_type=code(
                item.get("disability_limitation_type"),
                LIMITATION_TYPES,
                "disability_limitation_type",
            ),
            functional_severity=code(
                item.get("functional_severity"), FUNCTIONAL_SEVERITIES, "functional_severity"
            ),
        )
        if info.limitation_type or info.functional_severity:
            limitations.append(info)
    infos = []
    for item in _list(record.get("disability_details"), "disability_details"):
        cause = item.get("impairment_cause")
        info = DisabilityInfo(
            impairment_type=code(item.get("impairment_type"), IMPAIRMENT_TYPES, "impairment_type"),
            impairment_level=code(
                item.get("impairment_level"), IMPAIRMENT_LEVELS, "impairment_level"
            ),
            impairment_cause=cause.strip() if isinstance(cause, str) and cause.strip() else None,
        )
        if info.impairment_type or info.impairment_level:
            infos.append(_with_limitation(info, limitations))
    infos += limitations  # those no impairment took
    status = code(record.get("disability_status"), DISABILITY_STATUSES, "disability_status")
    level = code(
        record.get("disability_status_level") or record.get("disability_level"),
        DISABILITY_LEVELS,
        "disability_status_level",
    )
    explicit = flag(record.get("is_disabled"), "is_disabled")
    if explicit is None:
        explicit = flag(member.get("is_disabled"), "is_disabled")
    if explicit is not None:
        disabled = explicit
    elif status is not None:
        disabled = status == APPROVED
    else:
        disabled = True  # held in the disability registry
    return DisabilityResult(
        registered=True,
        is_disabled=disabled,
        status=status,
        level=level,
        infos=tuple(infos),
        identifiers=identifiers_of(record, default_id_type),
    )


def _with_limitation(impairment, limitations):
    """``impairment`` with the first of ``limitations`` of its domain (taken from the list)."""
    wanted = LIMITATION_OF_IMPAIRMENT.get(impairment.impairment_type)
    for index, limitation in enumerate(limitations):
        if wanted and limitation.limitation_type == wanted:
            del limitations[index]
            return DisabilityInfo(
                limitation_type=limitation.limitation_type,
                functional_severity=limitation.functional_severity,
                impairment_type=impairment.impairment_type,
                impairment_level=impairment.impairment_level,
                impairment_cause=impairment.impairment_cause,
            )
    return impairment


def first_record(reg_records):
    """The one record of a DR answer: ``reg_records`` is an object in the dr bundle's
    search answer, a list in get-disability-details; empty means unknown."""
    if isinstance(reg_records, list):
        records = [r for r in reg_records if r not in (None, {}, [])]
        if len(records) > 1:
            raise InvalidRecord(f"the DR returned {len(records)} people for one identifier")
        return records[0] if records else None
    return reg_records or None


def disabled_status(value) -> bool:
    """``disabled_status`` of ``/registry/sync/disabled`` ('yes' / 'no')."""
    result = flag(value, "disabled_status")
    if result is None:
        raise InvalidRecord("the answer has no disabled_status")
    return result


def idtype_query(id_type, value) -> dict:
    """The ``idtype-value`` query for one person."""
    return {"type": id_type, "value": value}
