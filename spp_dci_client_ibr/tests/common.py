# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
from odoo.addons.spp_dci.dci import spec
from odoo.addons.spp_dci_client.tests.common import StubRegistryMixin
from odoo.tests import HttpCase, new_test_user

from .ibr_stub import IBRStub, beneficiary, bundle_example_beneficiary

BENEFICIARIES = {
    ("UIN", "UIN-I1"): [
        beneficiary("CG-01", "Child Grant", status="Active", enrolled_on="2024-03-01T00:00:00Z"),
        beneficiary(
            "OAP", "Old Age Pension", status="4", enrolled_on="2020-01-01", changed_on="2023-06-30"
        ),
    ],
    ("UIN", "UIN-I2"): [
        bundle_example_beneficiary("DCI001", "Test Programme", "Active", "02.02.2024")
    ],
    ("UIN", "UIN-I3"): [
        beneficiary("SCH", "School Feeding", status="Graduated", enrolled_on="2019-09-01")
    ],
    ("UIN", "UIN-I4"): [beneficiary("XX", "Broken", status="Paused")],
}


class IBRHttpCase(StubRegistryMixin, HttpCase):
    """An IBR stub in a thread, an IBR data source, a case worker and registrants."""

    def setUp(self):
        super().setUp()
        signer = self.env["spp.dci.signing.key"]._dci_signer()
        self.stub = IBRStub(BENEFICIARIES, client_keys={signer.kid: signer.public_key.key})
        self.stub.start()
        self.addCleanup(self.stub.stop)
        self.source = self.make_source(self.stub, name="National IBR", registry_type="ibr")
        self.case_worker = new_test_user(
            self.env, login="ibr_case_worker", groups="spp_dci.group_dci_user"
        )
        self.id_types = {t.code: t for t in self.env["spp.id.type"].search([])}
        self.i1, self.i2, self.i3, self.i4, self.i5 = (
            self.registrant(f"Person {n}", [("UIN", f"UIN-I{n}")]) for n in range(1, 6)
        )
        self.no_uin = self.registrant("No Uin", [("BRN", "BRN-I6")])

    def assertStubSawValidRequests(self, stub):
        """Every request we sent validates against the ibr bundle, and was signed."""
        super().assertStubSawValidRequests(stub)
        sent = [(path, body) for path, body in stub.requests if body is not None]
        self.assertTrue(sent, "no request reached the registry")
        for path, body in sent:
            spec.validate_request("ibr", path, body)

    def check(self, partners, user=None):
        """The list action, as a case worker: returns the notification."""
        return self.run_list_action(
            "spp_dci_client_ibr.action_ibr_check_enrolment", partners, user or self.case_worker
        )

    def searches(self):
        return self.stub.ibr_requests("/registry/sync/search")
