# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
"""A demo population a programme officer can play with. Plain Python, no Odoo.

:func:`plan` draws, from a fixed seed, about a hundred households of the
Philippines (a few hundred individuals) with what a registry and its peers
hold about them: names, sex, birth dates, addresses, phones, identifiers
(UIN for everyone, BRN for those born since 1990, a household id), household
roles and relationships; the demo CRVS's birth records (a few with a
difference, for *Verify with CRVS*), births and deaths of the last months;
the demo IBR's programme enrolments and the demo DR's disability records.

The same seed gives the same people, identifiers and values on every machine
and every run (``random.Random`` with a string seed is stable across Python
versions). Birth dates are drawn against a fixed reference day, so they do not
move with the day of installation; only the recent CRVS events are given as
*days before today* (the Odoo side dates them at install), so that an import of
the last months finds them. All values are fictitious (phones in the 555 range).
"""

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

SEED = "spp_dci_demo population v1"
HOUSEHOLDS = 120
#: birth dates are drawn against this day, not today (see module doc)
REFERENCE_DAY = date(2026, 1, 1)
#: the recent CRVS events lie between these many days before today: outside the import
#: wizard's default 30 days (which the hand-made demo births fill), inside three months
RECENT_DAYS = (31, 80)


def _names(text):
    return tuple(name.strip() for name in text.split(","))


FEMALE = _names(
    "Maria, Ana, Rosa, Josefina, Carmen, Lourdes, Teresita, Elena, Cristina, Angelica, "
    "Jasmine, Kristine, Mary Grace, Liza, Marites, Rowena, Jennifer, Aileen, Princess, "
    "Andrea, Nicole, Bea, Trisha, Sofia, Althea, Erlinda, Corazon, Imelda, Gloria, "
    "Divina"
)
MALE = _names(
    "Jose, Juan, Antonio, Eduardo, Ramon, Roberto, Ricardo, Fernando, Manuel, Rogelio, "
    "Danilo, Arnel, Jerome, Mark Anthony, John Paul, Christian, Joshua, Miguel, Gabriel, "
    "Rafael, Carlo, Paolo, Angelo, Nathaniel, Renato, Ernesto, Efren, Romeo, Alfredo, "
    "Jericho"
)
SURNAMES = _names(
    "Bautista, Ocampo, Garcia, Mendoza, Torres, Castillo, Flores, Ramos, Aquino, "
    "Navarro, Salazar, Mercado, Aguilar, Domingo, Gonzales, Lopez, Soriano, Pascual, "
    "Manalo, Tolentino, Evangelista, Francisco, Dizon, Cruz, Fernandez, Panganiban, "
    "Macaraeg, Lacson, Buenaventura, Magbanua, Dimaculangan, Lim, Tan, Gutierrez, "
    "Rivera, Javier, Sarmiento, Villareal, Roxas, Medina"
)
#: (city, ZIP code, barangays)
PLACES = (
    ("Quezon City", "1100", ("Batasan Hills", "Commonwealth", "Payatas", "Bagong Silangan")),
    ("Manila", "1012", ("Tondo", "Sampaloc", "Paco")),
    ("Caloocan", "1400", ("Bagong Barrio", "Camarin")),
    ("Cebu City", "6000", ("Lahug", "Mabolo", "Pardo", "Talamban")),
    ("Davao City", "8000", ("Buhangin", "Toril", "Bunawan")),
    ("Iloilo City", "5000", ("Jaro", "Molo", "La Paz")),
    ("Tacloban", "6500", ("San Jose", "Abucay")),
    ("Zamboanga City", "7000", ("Tetuan", "Putik")),
    ("Baguio", "2600", ("Irisan", "Aurora Hill")),
    ("Legazpi", "4500", ("Bitano", "Rawis")),
)
STREETS = _names(
    "Rizal Street, Mabini Street, Bonifacio Avenue, Luna Street, Del Pilar Street, "
    "Quezon Avenue, Burgos Street, Aguinaldo Road, Magsaysay Drive, Osmena Street, "
    "Sampaguita Lane, Narra Street, Acacia Road, Molave Street, Purok 3"
)
#: (programme identifier, name) of the demo IBR
PROGRAMMES = (
    ("4PS-CCT", "Pantawid Pamilya (conditional cash transfer)"),
    ("SOCPEN", "Social Pension for Indigent Senior Citizens"),
    ("SLP", "Sustainable Livelihood Program"),
    ("AICS", "Assistance to Individuals in Crisis Situations"),
    ("PWD-CG", "Disability Cash Grant"),
)
IMPAIRMENT_CAUSES = ("Congenital", "Illness", "Injury", "Ageing", "Complications at birth")
#: ImpairmentType -> FunctionalLimitationType of the same domain (Mental: self care)
LIMITATION = {
    "1": "VIS_SS",
    "2": "HEAR_SS",
    "3": "MOB_SS",
    "4": "COG_SS",
    "5": "COM_SS",
    "6": "SC_SS",
}


@dataclass
class Person:
    key: str  # UIN: what the registry and its peers know the person by
    given_name: str
    family_name: str
    sex: str
    birthdate: date
    addl_name: str = ""
    brn: str = ""
    phone: str = ""
    role: str = "member"
    relationship: str = "SELF"

    @property
    def name(self):
        return " ".join(p for p in (self.given_name, self.addl_name, self.family_name) if p)

    def age(self):
        born = self.birthdate
        return (
            REFERENCE_DAY.year
            - born.year
            - ((REFERENCE_DAY.month, REFERENCE_DAY.day) < (born.month, born.day))
        )


@dataclass
class Household:
    hhid: str
    name: str
    street: str
    street2: str
    city: str
    zip: str
    registration_date: date
    members: list = field(default_factory=list)

    @property
    def head(self):
        return next(m for m in self.members if m.role == "head")


@dataclass
class CrvsRecord:
    """A person as the demo CRVS holds them; ``*_days_ago`` dates are set at install."""

    key: str
    given_name: str
    surname: str
    sex: str
    second_name: str = ""
    birth_date: date | None = None
    birth_days_ago: int | None = None
    death_days_ago: int | None = None
    identifiers: dict = field(default_factory=dict)  # id type code -> value


@dataclass
class Population:
    households: list
    crvs: list
    #: UIN -> [(programme identifier, name, status, enrolment date, status change date)]
    ibr: dict
    #: UIN -> {disability_status, disability_level, impairment_type, ...}
    dr: dict

    @property
    def individuals(self):
        return [m for h in self.households for m in h.members]


class _Draw:
    """The random choices, in one fixed order (the order is part of the determinism)."""

    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.uins = set()
        self.brn_seq = {}

    def chance(self, p):
        return self.rng.random() < p

    def birthdate(self, age):
        return REFERENCE_DAY - timedelta(days=int(age * 365.25) + self.rng.randrange(365))

    def uin(self):
        # 12 digits, the last a Luhn check digit, as national ids often are
        while True:
            body = str(self.rng.randrange(10**10, 10**11))
            value = body + _luhn(body)
            if value not in self.uins:
                self.uins.add(value)
                return value

    def brn(self, born, zip_code):
        # civil registry number: year of registration - local registry (ZIP) - sequence
        seq = self.brn_seq[born.year, zip_code] = self.brn_seq.get((born.year, zip_code), 0) + 1
        return f"{born.year}-{zip_code}-{seq:05d}"

    def phone(self):
        return f"+63 9{self.rng.randrange(10, 99)} 555 {self.rng.randrange(10000):04d}"

    def person(self, family, sex, age, zip_code, role="member", relationship="SELF"):
        born = self.birthdate(age)
        given = self.rng.choice(FEMALE if sex == "female" else MALE)
        addl = self.rng.choice(SURNAMES) if self.chance(0.6) else ""
        return Person(
            key=self.uin(),
            given_name=given,
            addl_name=addl,
            family_name=family,
            sex=sex,
            birthdate=born,
            brn=self.brn(born, zip_code) if born.year >= 1990 else "",
            phone=self.phone() if age >= 18 and self.chance(0.6) else "",
            role=role,
            relationship=relationship,
        )


def _luhn(digits):
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = int(d) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return str((10 - total % 10) % 10)


def _household(draw, number):
    rng = draw.rng
    family = rng.choice(SURNAMES)
    city, zip_code, barangays = rng.choice(PLACES)
    head_sex = "male" if draw.chance(0.62) else "female"
    head_age = int(rng.triangular(22, 80, 38))
    household = Household(
        hhid=f"HH-{zip_code}-{number:04d}",
        name=f"{family} household",
        street=f"{rng.randint(1, 250)} {rng.choice(STREETS)}",
        street2=f"Barangay {rng.choice(barangays)}",
        city=city,
        zip=zip_code,
        registration_date=date(2021, 1, 4) + timedelta(days=rng.randrange(5 * 365)),
    )
    head = draw.person(family, head_sex, head_age, zip_code, role="head")
    household.members.append(head)
    if head_age < 70 and draw.chance(0.75):
        spouse_age = max(18, head_age + rng.randint(-6, 4))
        spouse_sex = "female" if head_sex == "male" else "male"
        household.members.append(
            draw.person(family, spouse_sex, spouse_age, zip_code, relationship="SPS")
        )
    if head_age < 62:
        oldest = min(head_age - 18, 24)
        for _ in range(rng.choice((0, 1, 1, 2, 2, 2, 3, 3, 4, 5)) if oldest >= 0 else 0):
            sex = rng.choice(("female", "male"))
            child = draw.person(
                family,
                sex,
                rng.randint(0, oldest),
                zip_code,
                relationship="DAUC" if sex == "female" else "SONC",
            )
            household.members.append(child)
    if head_age >= 55 and draw.chance(0.35):
        for _ in range(rng.randint(1, 3)):
            sex = rng.choice(("female", "male"))
            household.members.append(
                draw.person(family, sex, rng.randint(0, 14), zip_code, relationship="GRNDCHILD")
            )
    if head_age < 58 and draw.chance(0.15):
        parent_sex = rng.choice(("female", "male"))
        household.members.append(
            draw.person(
                family,
                parent_sex,
                min(head_age + rng.randint(22, 30), 96),
                zip_code,
                relationship="PRN",
            )
        )
    return household


def _crvs(draw, households):
    """The demo CRVS: everyone's birth record, a few recent births and deaths."""
    rng = draw.rng
    records = []
    for household in households:
        for person in household.members:
            record = CrvsRecord(
                key=person.key,
                given_name=person.given_name,
                second_name=person.addl_name,
                surname=person.family_name,
                sex=person.sex,
                birth_date=person.birthdate,
                identifiers={"UIN": person.key, **({"BRN": person.brn} if person.brn else {})},
            )
            if draw.chance(0.04):  # what Verify with CRVS finds: a spelling, a date
                if draw.chance(0.5) or not person.addl_name:
                    record.birth_date = person.birthdate + timedelta(days=rng.choice((-2, -1, 1)))
                else:
                    record.second_name = rng.choice(SURNAMES)
            records.append(record)
    low, high = RECENT_DAYS
    young = [
        h
        for h in households
        if any(m.relationship == "SPS" for m in h.members) and h.head.age() < 42
    ]
    for household in rng.sample(young, min(10, len(young))):
        sex = rng.choice(("female", "male"))
        days = rng.randint(low, high)
        born = REFERENCE_DAY - timedelta(days=days)  # for the BRN's year only
        records.append(
            CrvsRecord(
                key=f"birth-{household.hhid}",
                given_name=rng.choice(FEMALE if sex == "female" else MALE),
                surname=household.head.family_name,
                sex=sex,
                birth_days_ago=days,
                identifiers={"BRN": draw.brn(born, household.zip)},
            )
        )
    elderly = [p for h in households for p in h.members if p.age() >= 72]
    by_key = {r.key: r for r in records}
    for number, person in enumerate(rng.sample(elderly, min(4, len(elderly))), start=1):
        record = by_key[person.key]
        record.death_days_ago = rng.randint(low, high)
        record.identifiers["DRN"] = f"D{REFERENCE_DAY.year}-{number:05d}"
    return records


def _ibr(draw, households):
    rng = draw.rng
    enrolments = {}

    def enrol(person, programme, start_year):
        status = rng.choices(("1", "3", "4"), weights=(8, 1, 1))[0]
        start = date(start_year, rng.randint(1, 12), 1)
        changed = start + timedelta(days=rng.randint(200, 900)) if status != "1" else None
        enrolments.setdefault(person.key, []).append((*programme, status, start, changed))

    for household in households:
        head = household.head
        children = [m for m in household.members if m.age() < 18]
        if children and draw.chance(0.35):
            enrol(head, PROGRAMMES[0], rng.randint(2012, 2024))
        for person in household.members:
            if person.age() >= 60 and draw.chance(0.45):
                enrol(person, PROGRAMMES[1], rng.randint(2016, 2025))
        if draw.chance(0.08):
            enrol(head, PROGRAMMES[rng.choice((2, 3))], rng.randint(2019, 2025))
    return enrolments


def _dr(draw, individuals, enrolments):
    rng = draw.rng
    records = {}
    for person in individuals:
        if not draw.chance(0.06 + (0.14 if person.age() >= 65 else 0.0)):
            continue
        impairment = rng.choices(("1", "2", "3", "4", "5", "6"), weights=(3, 2, 4, 2, 1, 1))[0]
        status = rng.choices(("0", "1", "2"), weights=(7, 2, 1))[0]
        records[person.key] = {
            "disability_status": status,
            "disability_level": rng.choice(("1", "2", "3", "4")),
            "impairment_type": impairment,
            "impairment_level": rng.choice(("1", "2", "3", "4")),
            "impairment_cause": "Ageing" if person.age() >= 65 else rng.choice(IMPAIRMENT_CAUSES),
            "limitation_type": LIMITATION[impairment],
            "functional_severity": rng.choice(("2", "3", "3", "4")),
        }
        if status == "0" and person.age() >= 18 and draw.chance(0.3):
            enrolments.setdefault(person.key, []).append(
                (*PROGRAMMES[4], "1", date(rng.randint(2020, 2025), rng.randint(1, 12), 1), None)
            )
    return records


def plan(households=HOUSEHOLDS, seed=SEED):
    """The demo population drawn from ``seed``: the same on every run."""
    draw = _Draw(seed)
    homes = [_household(draw, number) for number in range(1, households + 1)]
    crvs = _crvs(draw, homes)
    ibr = _ibr(draw, homes)
    dr = _dr(draw, [m for h in homes for m in h.members], ibr)
    return Population(households=homes, crvs=crvs, ibr=ibr, dr=dr)
