# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
"""A minimal disability registry (DR) for the tests, from ``dr_api_v1.0.0.yaml``.

Built on spp_dci_client's independent stub (its own Ed25519 signing and
verifying, its misbehaviour switches), it serves the DR paths:
``/registry/sync/search`` (one ``PWD_Person`` object per search item, as the dr
bundle types ``reg_records``), ``/registry/sync/disabled`` (yes/no) and
``/registry/sync/get-disability-details``, and checks every request we send
against the dr bundle.
"""

import uuid

from odoo.addons.spp_dci_client.tests.registry_stub import StubRegistry, _now_iso

DR_PATHS = (
    "/registry/sync/search",
    "/registry/sync/disabled",
    "/registry/sync/get-disability-details",
)


def pwd_person(uin, *, status=None, level=None, infos=(), details=(), is_disabled=None):
    """A PWD_Person (schemas/extensions/dr/v1/data/PWDPerson.jsonld)."""
    member = {
        "@type": "Member",
        "member_identifier": [{"identifier_type": "UIN", "identifier_value": uin}],
        "demographic_info": {"@type": "DR_Person", "name": {"given_name": f"Person {uin}"}},
    }
    if is_disabled is not None:
        member["is_disabled"] = is_disabled
    if infos:
        member["disability_info"] = [
            {"disability_limitation_type": kind, "functional_severity": severity}
            for kind, severity in infos
        ]
    record = {"@type": "PWD_Person", "personal_details": member}
    if status is not None:
        record["disability_status"] = status
    if level is not None:
        record["disability_status_level"] = level
    if details:
        record["disability_details"] = [
            {"impairment_type": kind, "impairment_level": lvl, "impairment_cause": cause}
            for kind, lvl, cause in details
        ]
    return record


class DRStub(StubRegistry):
    spec_name = "dr"

    def __init__(self, people, **options):
        super().__init__(records=0, sender_id="dr.registry.test", **options)
        #: (identifier type, value) -> PWD_Person
        self.people = dict(people)

    dr_requests = StubRegistry.requests_to

    # -- answers ---------------------------------------------------------------------------

    def person(self, query):
        return self.people.get((query.get("type"), query.get("value")))

    @staticmethod
    def disabled(record):
        member = record.get("personal_details", {})
        return record.get("disability_status") == "Approved" or str(
            member.get("is_disabled")
        ).lower() in ("1", "true", "yes")

    def handle(self, path, body, headers):
        if path not in DR_PATHS:
            return super().handle(path, body, headers)
        refused = self.check_request(path, body, headers)
        if refused:
            return refused
        message = body["message"]
        reply = {"transaction_id": message["transaction_id"], "correlation_id": str(uuid.uuid4())}
        if path == "/registry/sync/search":
            reply["search_response"] = [
                self.search_item(item) for item in message["search_request"]
            ]
            count = len(reply["search_response"])
        else:
            record = self.person(message["disabled_criteria"]["query"])
            if path == "/registry/sync/disabled":
                reply["disabled_response"] = [
                    {
                        "reference_id": str(uuid.uuid4()),
                        "timestamp": _now_iso(),
                        "status": "succ",
                        "disabled_status": "yes" if record and self.disabled(record) else "no",
                    }
                ]
            else:
                reply["search_response"] = [
                    {
                        "reference_id": str(uuid.uuid4()),
                        "timestamp": _now_iso(),
                        "status": "succ",
                        "data": {"version": "1.0.0", "reg_records": [record] if record else []},
                    }
                ]
            count = 1
        header = self._callback_header("on-search", body["header"], count)
        return self.reply(path, 200, self.envelope(header, reply))

    def search_item(self, item):
        criteria = item["search_criteria"]
        answer = {"reference_id": item["reference_id"], "timestamp": _now_iso()}
        if self.mode == "rjct":
            return {
                **answer,
                "status": "rjct",
                "status_reason_code": "rjct.search_criteria.invalid",
            }
        answer["status"] = "succ"
        record = self.person(criteria["query"])
        if record is not None:
            answer["data"] = {
                "version": "1.0.0",
                "reg_type": criteria.get("reg_type") or "ns:org:RegistryType:DR",
                "reg_record_type": "spdci-extensions-dci:DisabledPerson",
                "reg_records": record,
            }
        return answer
