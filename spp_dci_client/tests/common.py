# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
import contextlib

from odoo.addons.queue_job.job import Job
from odoo.tests import HttpCase

from .registry_stub import StubRegistry

CLIENT_ID = "openspp-test-client"
CLIENT_SECRET = "s3cret-client-secret-value"


class StubRegistryMixin:
    """Start an independent DCI registry (``registry_stub``) per test and a data source for it."""

    stub_options = {}

    def start_stub(self, **options):
        signer = self.env["spp.dci.signing.key"]._dci_signer()
        stub = StubRegistry(
            client_keys={signer.kid: signer.public_key.key}, **{**self.stub_options, **options}
        )
        stub.start()
        self.addCleanup(stub.stop)
        return stub

    def make_source(self, stub, **vals):
        stub.auth = stub.auth or ("oauth2", CLIENT_ID, CLIENT_SECRET)
        values = {
            "name": "Stub registry",
            "registry_type": "social",
            "base_url": stub.url,
            "registry_sender_id": stub.sender_id,
            "jwks_url": stub.jwks_url,
            "auth_type": "oauth2",
            "oauth2_client_id": CLIENT_ID,
            "oauth2_client_secret": CLIENT_SECRET,
            "timeout": 5,
            "retries": 0,
            "retry_backoff": 0.05,
            "page_size": 3,
        }
        values.update(vals)
        return self.env["spp.dci.data.source"].create(values)

    def run_queued_job(self, job):
        """Run one stored job through /queue_job/runjob, as the job runner does."""
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE queue_job SET state = 'enqueued', date_enqueued = now() AT TIME ZONE 'utc' "
            "WHERE uuid = %s",
            (job.uuid,),
        )
        response = self.url_open(
            f"/queue_job/runjob?db={self.env.cr.dbname}&job_uuid={job.uuid}", timeout=60
        )
        self.assertEqual(response.status_code, 200, response.text)
        self.env.invalidate_all()

    def fail_queued_job(self, job, error=Exception):
        """Run one stored job that raises ``error``, and mark it failed as the job runner does.

        (The runner stores the failure from its own cursor, which a test's
        rollback of the request would undo: the failing run is done here.)
        """
        loaded = Job.load(self.env, job.uuid)
        with self.assertRaises(error) as caught, self.env.cr.savepoint():
            loaded.perform()
        loaded.set_failed(
            exc_name=type(caught.exception).__name__, exc_message=str(caught.exception)
        )
        loaded.store()
        self.env.invalidate_all()
        return caught.exception

    def run_queued_jobs(self, model="spp.dci.data.source"):
        """Run the pending jobs of ``model`` (and those they queue) until none is left."""
        ran = self.env["queue.job"]
        while True:
            self.env.flush_all()
            jobs = self.env["queue.job"].search(
                [("state", "=", "pending"), ("model_name", "=", model), ("id", "not in", ran.ids)],
                order="id",
            )
            if not jobs:
                return ran
            for job in jobs:
                self.run_queued_job(job)
            ran |= jobs

    def registrant(self, name, identifiers):
        """A registrant holding ``identifiers``, ``[(id type code, value)]``."""
        codes = [code for code, _value in identifiers]
        types = {t.code: t for t in self.env["spp.id.type"].search([("code", "in", codes)])}
        return self.env["res.partner"].create(
            {
                "name": name,
                "is_registrant": True,
                "registry_id_ids": [
                    (0, 0, {"id_type_id": types[code].id, "value": value})
                    for code, value in identifiers
                ],
            }
        )

    def run_list_action(self, xmlid, partners, user):
        """Run the server action ``xmlid`` on ``partners`` as ``user``: returns its result."""
        result = (
            self.env.ref(xmlid)
            .with_user(user)
            .with_context(active_model="res.partner", active_ids=partners.ids)
            .run()
        )
        self.env.invalidate_all()
        return result

    def logs(self, **domain):
        return self.env["spp.dci.client.exchange.log"].search(
            [(key, "=", value) for key, value in domain.items()], order="id"
        )

    def assertStubSawValidRequests(self, stub):
        """Every request we sent matched the spec and carried a signature the stub verified."""
        self.assertFalse(
            stub.spec_errors, f"requests not valid per the DCI spec: {stub.spec_errors}"
        )
        self.assertFalse(
            stub.signature_errors, f"stub could not verify our signature: {stub.signature_errors}"
        )
        self.assertFalse(
            stub.reply_errors, f"the stub itself answered off-spec: {stub.reply_errors}"
        )

    def perform_stored_jobs(self):
        """Run the queue jobs the callbacks stored, for real, in this test's environment."""
        self.env.flush_all()
        jobs = self.env["queue.job"].search(
            [("state", "=", "pending"), ("model_name", "like", "spp.dci.%")], order="id"
        )
        results = []
        for record in jobs:
            job = Job.load(self.env, record.uuid)
            job.set_started()
            job.store()
            result = job.perform()
            job.set_done(result=result)
            job.store()
            results.append(result)
        self.env.invalidate_all()
        return results


class DCIClientHttpCase(StubRegistryMixin, HttpCase):
    """HttpCase with the stub registry; ``odoo_requests()`` lets it call our receivers."""

    def setUp(self):
        super().setUp()
        self.stub = self.start_stub()
        self.source = self.make_source(self.stub)
        self.env["ir.config_parameter"].sudo().set_param("spp_dci_client.callback_base_url", False)

    @contextlib.contextmanager
    def odoo_requests(self):
        """Let requests that do not come from ``url_open`` (the stub's callbacks) into Odoo."""
        self.env.flush_all()
        with self.allow_requests(all_requests=True):
            yield
        self.env.invalidate_all()
