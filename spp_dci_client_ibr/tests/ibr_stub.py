# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
"""A minimal integrated beneficiary registry (IBR) for the tests, from ``ibr_api_v1.0.0.yaml``.

Built on spp_dci_client's independent stub (its own Ed25519 signing and
verifying, its misbehaviour switches), it serves ``/registry/sync/search``
(Beneficiary records) and ``/registry/sync/enrolled``, whose answer the ibr
bundle defines as a bare ``EnrolledResponse`` (no header, no signature), and
checks every request we send against the ibr bundle.
"""

import uuid

from odoo.addons.spp_dci_client.tests.registry_stub import StubRegistry, _now_iso

IBR_PATHS = ("/registry/sync/search", "/registry/sync/enrolled")


def beneficiary(programme, name, *, status=None, enrolled_on=None, changed_on=None):
    """A Beneficiary as the JSON-LD vocabulary has it (Beneficiary.jsonld)."""
    record = {
        "@context": {"@vocab": "https://schema.spdci.org/extensions/ibr/v1"},
        "@type": "Beneficiary",
        "assistance_unit": "1",
        "programme_identifier": [
            {"@type": "Programme", "programme_identifier": programme, "programme_name": name}
        ],
        "benefits": [],
    }
    if status is not None:
        record["enrollment_status"] = status
    if enrolled_on is not None:
        record["enrollment_date"] = enrolled_on
    if changed_on is not None:
        record["status_change_date"] = [changed_on]
    return record


def bundle_example_beneficiary(programme, name, status, enrolled_on):
    """A Beneficiary as the ibr bundle's example nests it (under member, 'enrolment')."""
    return {
        "@type": "Beneficiary",
        "assistance_unit": "1",
        "member": {
            "member_identifier": "HS0205202401",
            "programme_identifier": {
                "programme": {"programme_identifier": programme, "programme_name": name},
                "enrolment_date": enrolled_on,
                "enrolment_status": status,
                "status_change_date": "",
                "benefits": {"benefit_type": "Cash", "benefit_value": "USD 50"},
            },
        },
    }


class IBRStub(StubRegistry):
    spec_name = "ibr"

    def __init__(self, beneficiaries, **options):
        super().__init__(records=0, sender_id="ibr.registry.test", **options)
        #: (identifier type, value) -> [Beneficiary]
        self.beneficiaries = {key: list(value) for key, value in beneficiaries.items()}

    ibr_requests = StubRegistry.requests_to

    def handle(self, path, body, headers):
        if path not in IBR_PATHS:
            return super().handle(path, body, headers)
        refused = self.check_request(path, body, headers)
        if refused:
            return refused
        message = body["message"]
        if path == "/registry/sync/enrolled":
            query = message["enrolled_criteria"]["query"]
            records = self.beneficiaries.get((query.get("type"), query.get("value")), [])
            enrolled = any(str(r.get("enrollment_status", "1")) in ("1", "Active") for r in records)
            # the ibr bundle: a bare EnrolledResponse, no header and no signature
            return self.reply(
                path,
                200,
                {
                    "transaction_id": message["transaction_id"],
                    "correlation_id": str(uuid.uuid4()),
                    "enrolled_response": [
                        {
                            "reference_id": str(uuid.uuid4()),
                            "timestamp": _now_iso(),
                            "status": "succ",
                            "enrolled_status": "yes" if enrolled else "no",
                        }
                    ],
                },
            )
        items = [self.search_item(item) for item in message["search_request"]]
        reply = {
            "transaction_id": message["transaction_id"],
            "correlation_id": str(uuid.uuid4()),
            "search_response": items,
        }
        header = self._callback_header("on-search", body["header"], len(items))
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
        query = criteria["query"]
        records = self.beneficiaries.get((query.get("type"), query.get("value")), [])
        return {
            **answer,
            "status": "succ",
            "data": {
                "version": "1.0.0",
                "reg_type": criteria.get("reg_type") or "ns:org:RegistryType:IBR",
                "reg_record_type": "Beneficiary",
                "reg_records": records,
            },
        }
