# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
"""A minimal CRVS registry for the tests: spp_dci_client's independent stub, CRVS-flavoured.

It keeps the stub's own signing and verifying (not spp_dci's code), checks our
requests against ``crvs_api_v1.0.0.yaml`` instead of the social bundle, holds
CRVS_Person records (schemas/extensions/crvs/v1/data/CRVSPerson.jsonld) and
answers ``predicate`` searches on their ``birth_date`` / ``death_date`` as the
crvs bundle describes them ("search ... birth, death events").
"""

from odoo.addons.spp_dci_client.tests.registry_stub import StubRegistry

from ..mapping import PARENT_KEYS

SPEC = "crvs"


def crvs_person(
    identifiers,
    *,
    given=None,
    surname=None,
    second=None,
    sex=None,
    birth=None,
    death=None,
    parents=(),
):
    """A CRVS_Person as the crvs bundle's example writes it; ``parents``: ``[(type, value)]``."""
    record = {
        "@context": {"@vocab": "https://schema.spdci.org/core/v1"},
        "@type": "CRVS_Person",
        "identifier": [
            {"@type": "Identifier", "identifier_type": id_type, "identifier_value": value}
            for id_type, value in identifiers
        ],
        "name": {"@type": "Name", "given_name": given, "surname": surname, "second_name": second},
        "sex": sex,
        "birth_date": birth,
        "death_date": death or "",
    }
    for key, (id_type, value) in zip(PARENT_KEYS, parents, strict=False):
        record[key] = {"@type": "Identifier", "identifier_type": id_type, "identifier_value": value}
    record["name"] = {k: v for k, v in record["name"].items() if v is not None}
    return {k: v for k, v in record.items() if v is not None}


class CRVSStub(StubRegistry):
    """The stub with CRVS records and the crvs spec."""

    spec_name = SPEC  # requests and answers are checked against the crvs spec

    def __init__(self, records=(), *, fail_after=None, **options):
        super().__init__(records=0, sender_id="crvs.registry.test", **options)
        self.records = list(records)
        #: after this many searches, answer with a forged signature (a failure mid-import)
        self.fail_after = fail_after
        self.searches = 0

    def handle(self, path, body, headers):
        if path == "/registry/sync/search":
            self.searches += 1
            if self.fail_after is not None and self.searches > self.fail_after:
                self.mode = "forged"
        return super().handle(path, body, headers)

    # -- predicate searches -------------------------------------------------------------

    def _matches(self, criteria):
        if criteria.get("query_type") != "predicate":
            return super()._matches(criteria)
        return [
            record
            for record in self.records
            if all(self._item(record, item) for item in criteria["query"])
        ]

    def _item(self, record, item):
        first = self._expression(record, item["expression1"])
        if "expression2" not in item:
            return first
        second = self._expression(record, item["expression2"])
        return {"and": first and second, "or": first or second, "not": first and not second}[
            item["condition"]
        ]

    @staticmethod
    def _expression(record, expression):
        value = record.get(expression["attribute_name"])
        if not value:
            return False
        value, wanted = str(value)[:10], str(expression["attribute_value"])[:10]
        return {
            "eq": value == wanted,
            "ge": value >= wanted,
            "gt": value > wanted,
            "le": value <= wanted,
            "lt": value < wanted,
        }[expression["operator"]]
