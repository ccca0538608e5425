# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
import contextlib

from odoo.addons.spp_dci.dci import spec
from odoo.addons.spp_dci_client.tests.common import StubRegistryMixin
from odoo.tests import HttpCase, new_test_user
from odoo.tools import mute_logger

from .dr_stub import DRStub, pwd_person

CALLBACK_SECRET = "dr-callback-secret-0123456789abcdefgh"
RECEIVER_LOGGER = "odoo.addons.spp_dci_client.models.spp_dci_client_receiver"

PEOPLE = {
    ("UIN", "UIN-D1"): pwd_person(
        "UIN-D1",
        status="Approved",
        level="2",
        infos=[("MOB_SS", "3"), ("VIS_SS", "2")],
        details=[("Mobility", "Severe", "Road accident")],
    ),
    ("UIN", "UIN-D2"): pwd_person("UIN-D2", status="Pending", infos=[("HEAR_SS", "2")]),
    ("UIN", "UIN-D3"): pwd_person("UIN-D3", is_disabled="1", infos=[("COM_SS", "4")]),
    ("UIN", "UIN-D4"): pwd_person("UIN-D4", status="Maybe"),
}


class DRHttpCase(StubRegistryMixin, HttpCase):
    """A DR stub in a thread, a DR data source, a case worker and registrants."""

    def setUp(self):
        super().setUp()
        signer = self.env["spp.dci.signing.key"]._dci_signer()
        self.stub = DRStub(PEOPLE, client_keys={signer.kid: signer.public_key.key})
        self.stub.start()
        self.addCleanup(self.stub.stop)
        self.source = self.make_source(self.stub, name="Disability Registry", registry_type="dr")
        self.case_worker = new_test_user(
            self.env, login="dr_case_worker", groups="spp_dci.group_dci_user"
        )
        types = self.env["spp.id.type"].search([])
        self.id_types = {t.code: t for t in types}
        self.d1, self.d2, self.d3, self.d4, self.d5 = (
            self.registrant(f"Person {n}", [("UIN", f"UIN-D{n}")]) for n in range(1, 6)
        )
        self.no_uin = self.registrant("No Uin", [("BRN", "BRN-D6")])
        self.household = self.env["res.partner"].create(
            {"name": "Household D", "is_registrant": True, "is_group": True}
        )

    def assertStubSawValidRequests(self, stub):
        """Every request we sent validates against the dr bundle, and was signed."""
        super().assertStubSawValidRequests(stub)
        sent = [(path, body) for path, body in stub.requests if body is not None]
        self.assertTrue(sent, "no request reached the registry")
        for path, body in sent:
            spec.validate_request("dr", path, body)

    def check(self, partners, user=None):
        """The list action, as a case worker: returns the notification."""
        return self.run_list_action(
            "spp_dci_client_dr.action_dr_check_disability", partners, user or self.case_worker
        )

    def searches(self):
        return self.stub.dr_requests("/registry/sync/search")


class DRCallbackCase(DRHttpCase):
    """Also a DCI endpoint of this Odoo receiving the DR's callbacks (notify)."""

    root = "/dci/test-dr-client"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.endpoint = cls.env["fastapi.endpoint"].create(
            {
                "name": "DCI DR callbacks (test)",
                "app": "dci",
                "root_path": cls.root,
                "dci_registry_type": "dr",
                "user_id": cls.env.ref("spp_dci_server.user_dci_server").id,
                "save_http_session": False,
            }
        )
        cls.endpoint._handle_registry_sync()

    def setUp(self):
        super().setUp()
        self.source.callback_base_url = self.base_url() + self.root
        sender = self.env["spp.dci.sender"].create(
            {
                "name": "DR stub (callbacks)",
                "client_id": self.stub.sender_id,
                "scopes": "registry.on-search registry.on-subscribe registry.notify",
                "allowed_registry_types": "dr",
                "jwks_url": self.stub.jwks_url,
                "jwks_allow_http": True,
                "rate_limit": 0,
            }
        )
        sender._dci_set_secret(CALLBACK_SECRET)
        token_url = self.base_url() + self.root + "/oauth2/client/token"
        self.stub.callback_auth = (token_url, self.stub.sender_id, CALLBACK_SECRET)

    @contextlib.contextmanager
    def odoo_requests(self):
        self.env.flush_all()
        with self.allow_requests(all_requests=True), mute_logger(RECEIVER_LOGGER):
            yield
        self.env.invalidate_all()

    def deliver(self):
        with self.odoo_requests():
            response = self.stub.deliver()
        self.assertEqual(response.status_code, 200, response.text)

    def notify(self, records, **kwargs):
        with self.odoo_requests():
            return self.stub.notify(
                self.base_url() + self.root + "/registry/notify", records, **kwargs
            )
