# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
import contextlib

from odoo.addons.fastapi.pools import fastapi_app_pool
from odoo.addons.spp_dci.dci import spec
from odoo.addons.spp_dci_client.tests.common import StubRegistryMixin
from odoo.tests import HttpCase, new_test_user
from odoo.tools import mute_logger

from .crvs_stub import CRVSStub, crvs_person

ROOT = "/dci/test-crvs-client"
CALLBACK_SECRET = "crvs-callback-secret-0123456789abcdef"
CALLBACK_SCOPES = "registry.on-search registry.on-subscribe registry.notify registry.on-status"
RECEIVER_LOGGER = "odoo.addons.spp_dci_client.models.spp_dci_client_receiver"

# Births registered in January 2025 (and one before), deaths in February 2025.
BIRTHS = [
    crvs_person(
        [("BRN", "BRN-1001"), ("UIN", "UIN-2001")],
        given="Amina",
        second="Kadi",
        surname="Diallo",
        sex="female",
        birth="2025-01-03T08:15:00",
    ),
    crvs_person(
        [("BRN", "BRN-1002")], given="Omar", surname="Diallo", sex="male", birth="2025-01-05"
    ),
    # UIN-2003 is already registered (as "Fatu Ndiaye", no BRN): updated
    crvs_person(
        [("UIN", "UIN-2003"), ("BRN", "BRN-1003")],
        given="Fatou",
        surname="Ndiaye",
        sex="female",
        birth="2025-01-07",
    ),
    crvs_person([("BRN", "BRN-1004")], given="Awa", surname="Ba", sex="X", birth="2025-01-09"),
    crvs_person([("BRN", "BRN-1005")], sex="male", birth="2025-01-11"),
    crvs_person(
        [("PASSPORT", "P-1006")], given="Ali", surname="Kane", sex="male", birth="2025-01-13"
    ),
    # UIN-2007 is registered with BRN-9999: a conflict for a human
    crvs_person(
        [("UIN", "UIN-2007"), ("BRN", "BRN-1007")],
        given="Moussa",
        surname="Sy",
        sex="male",
        birth="2025-01-15",
    ),
    crvs_person(
        [("BRN", "BRN-0999")], given="Early", surname="Bird", sex="female", birth="2024-12-20"
    ),
    crvs_person(
        [("BRN", "BRN-1009")], given="Musa", surname="Camara", sex="male", birth="2025-01-31"
    ),
]
DEATHS = [
    crvs_person(
        [("UIN", "UIN-2010"), ("DRN", "DRN-3001")],
        given="Ibrahima",
        surname="Sow",
        sex="male",
        birth="1950-04-02",
        death="2025-02-10T14:00:00",
    ),
    crvs_person(
        [("UIN", "UIN-2099"), ("DRN", "DRN-3002")],
        given="Nobody",
        surname="Known",
        sex="female",
        birth="1960-01-01",
        death="2025-02-11",
    ),
]
JANUARY = ("2025-01-01", "2025-01-31")
FEBRUARY = ("2025-02-01", "2025-02-28")


class CRVSHttpCase(StubRegistryMixin, HttpCase):
    """A CRVS stub in a thread, a CRVS data source for it, a case worker and two registrants."""

    records = BIRTHS + DEATHS

    def setUp(self):
        super().setUp()
        signer = self.env["spp.dci.signing.key"]._dci_signer()
        self.stub = CRVSStub(self.records, client_keys={signer.kid: signer.public_key.key})
        self.stub.start()
        self.addCleanup(self.stub.stop)
        self.source = self.make_source(self.stub, name="National CRVS", registry_type="crvs")
        self.case_worker = new_test_user(
            self.env, login="crvs_case_worker", groups="spp_dci.group_dci_user"
        )
        self.id_types = {
            t.code: t
            for t in self.env["spp.id.type"].search([("code", "in", ["UIN", "BRN", "DRN"])])
        }
        self.fatu = self.registrant("Fatu", "Ndiaye", [("UIN", "UIN-2003")], sex="female")
        self.moussa = self.registrant(
            "Moussa", "Sy", [("UIN", "UIN-2007"), ("BRN", "BRN-9999")], sex="male"
        )
        self.ibrahima = self.registrant(
            "Ibrahima", "Sow", [("UIN", "UIN-2010")], sex="male", birthdate="1950-04-02"
        )

    def assertStubSawValidRequests(self, stub):
        """Every request we sent validates against the crvs bundle, and was signed."""
        super().assertStubSawValidRequests(stub)
        sent = [(path, body) for path, body in stub.requests if body is not None]
        self.assertTrue(sent, "no request reached the registry")
        for path, body in sent:
            spec.validate_request("crvs", path, body)

    def registrant(self, given, family, identifiers, **values):
        return self.env["res.partner"].create(
            {
                "is_registrant": True,
                "given_name": given,
                "family_name": family,
                "registry_id_ids": [
                    (0, 0, {"id_type_id": self.id_types[code].id, "value": value})
                    for code, value in identifiers
                ],
                **values,
            }
        )

    def holder(self, code, value):
        """The registrant holding an identifier (empty recordset when nobody does)."""
        return (
            self.env["spp.registry.id"]
            .search([("id_type_id.code", "=", code), ("value", "=", value)])
            .partner_id
        )

    def run_wizard(self, event, dates, mode="now", user=None):
        wizard = (
            self.env["spp.dci.crvs.import.wizard"]
            .with_user(user or self.case_worker)
            .create(
                {
                    "data_source_id": self.source.id,
                    "event_type": event,
                    "date_from": dates[0],
                    "date_to": dates[1],
                    "mode": mode,
                }
            )
        )
        action = wizard.action_import()
        self.env.invalidate_all()
        return action

    def import_run(self, event, dates):
        action = self.run_wizard(event, dates)
        self.assertEqual(action["res_model"], "spp.dci.crvs.import")
        return self.env["spp.dci.crvs.import"].browse(action["res_id"])

    def searches(self):
        return [body for path, body in self.stub.requests if path == "/registry/sync/search"]

    def assertCounts(self, run, created=0, updated=0, unchanged=0, skipped=0):
        self.assertEqual(
            {
                "created": run.created_count,
                "updated": run.updated_count,
                "unchanged": run.unchanged_count,
                "skipped": run.skipped_count,
            },
            {"created": created, "updated": updated, "unchanged": unchanged, "skipped": skipped},
            run.line_ids.mapped(lambda line: (line.outcome, line.identifiers, line.detail)),
        )


class CRVSCallbackCase(CRVSHttpCase):
    """Also a DCI endpoint of this Odoo that receives the CRVS's callbacks."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.endpoint = cls.env["fastapi.endpoint"].create(
            {
                "name": "DCI CRVS callbacks (test)",
                "app": "dci",
                "root_path": ROOT,
                "dci_registry_type": "crvs",
                "user_id": cls.env.ref("spp_dci_server.user_dci_server").id,
                "save_http_session": False,
            }
        )
        cls.endpoint._handle_registry_sync()
        # the apps pooled for ROOT's paths may be another class's (rolled back) endpoint's
        fastapi_app_pool.invalidate(cls.env)
        cls.addClassCleanup(fastapi_app_pool.invalidate, cls.env)

    def setUp(self):
        super().setUp()
        self.source.callback_base_url = self.base_url() + ROOT
        sender = self.env["spp.dci.sender"].create(
            {
                "name": "CRVS stub (callbacks)",
                "client_id": self.stub.sender_id,
                "scopes": CALLBACK_SCOPES,
                "allowed_registry_types": "crvs",
                "jwks_url": self.stub.jwks_url,
                "jwks_allow_http": True,
                "rate_limit": 0,
            }
        )
        sender._dci_set_secret(CALLBACK_SECRET)
        token_url = self.base_url() + ROOT + "/oauth2/client/token"
        self.stub.callback_auth = (token_url, self.stub.sender_id, CALLBACK_SECRET)

    @contextlib.contextmanager
    def odoo_requests(self):
        self.env.flush_all()
        with self.allow_requests(all_requests=True), mute_logger(RECEIVER_LOGGER):
            yield
        self.env.invalidate_all()

    def deliver(self, **overrides):
        with self.odoo_requests():
            response = self.stub.deliver(**overrides)
        self.assertEqual(response.status_code, 200, response.text)
        return response

    def notify(self, records, **kwargs):
        with self.odoo_requests():
            return self.stub.notify(self.base_url() + ROOT + "/registry/notify", records, **kwargs)
