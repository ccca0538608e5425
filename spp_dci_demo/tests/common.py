# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
"""Harness of the demo tests: this Odoo over real HTTP, its queue jobs run for real.

The demo data (installed with the module) points the demo data sources at this
server's own HTTP port, which the test runner serves. A client call made in the
test thread reaches the server in one of its threads: :meth:`DemoCase.served`
lets those requests in. Jobs are trapped with queue_job's ``trap_jobs()`` -
including the ones the server enqueues while answering a request - and
performed in the test thread by :meth:`DemoCase.run_jobs`, their HTTP calls
(callbacks to our own receivers) served the same way.
"""

import contextlib
import json

from odoo.addons.spp_dci.dci import spec
from odoo.addons.spp_dci_client.client.service import JWKS_PATH, OAUTH2_TOKEN_PATH
from odoo.addons.spp_dci_demo.models.spp_dci_demo_setup import LOOPS
from odoo.tests import HttpCase, new_test_user
from odoo.tools import config


class DemoCase(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.case_worker = new_test_user(
            cls.env, login="demo_case_worker", groups="spp_dci.group_dci_user"
        )
        cls._point_loops_at_this_server()

    @classmethod
    def _point_loops_at_this_server(cls):
        """The demo loops' URLs on this test server's port, where it is not the port of
        the installation (pytest-odoo --odoo-http serves on a random port); the client
        secrets and pinned keys stay as installed."""
        base = f"http://127.0.0.1:{config['http_port']}"
        for source_xmlid, sender_xmlid, endpoint_xmlid in LOOPS:
            source = cls.env.ref(source_xmlid).sudo()
            root = base + cls.env.ref(endpoint_xmlid).root_path
            if source.base_url == root:
                continue
            source.write(
                {"base_url": root, "callback_base_url": root, "jwks_url": root + JWKS_PATH}
            )
            cls.env.ref(sender_xmlid).sudo().write(
                {"jwks_url": root + JWKS_PATH, "callback_token_url": root + OAUTH2_TOKEN_PATH}
            )

    def demo(self, xmlid):
        return self.env.ref(f"spp_dci_demo.{xmlid}")

    @contextlib.contextmanager
    def served(self):
        """Let this Odoo's HTTP server answer while the test thread waits for it."""
        self.env.flush_all()
        with self.allow_requests(all_requests=True):
            yield
        self.env.invalidate_all()

    def run_jobs(self, trap, rounds=10):
        """Perform the trapped jobs (and the jobs they enqueue); returns what ran.

        A job enqueued by a request is bound to that request's environment:
        it is rebound to the test environment (same user) before it runs.
        """
        ran = []
        for _round in range(rounds):
            jobs, trap.enqueued_jobs = trap.enqueued_jobs, []
            if not jobs:
                break
            for job in jobs:
                if job.state == "failed":
                    continue  # listed failed when created (a delivery that gave up): not run
                records = job.recordset
                job.recordset = records.with_env(self.env(user=records.env.uid, su=records.env.su))
                with self.served():
                    job.perform()
                ran.append(f"{records._name}.{job.method_name}")
        self.env.invalidate_all()
        return ran

    def exchanges(self, source, **values):
        domain = [("data_source_ref", "=", source.id)]
        domain += [(name, "=", value) for name, value in values.items()]
        return self.env["spp.dci.client.exchange.log"].search(domain, order="id")

    def assertSpecAnswers(self, registry, source, path="/registry/sync/search"):
        """Every answer the registry gave this data source validates against its spec."""
        pages = self.exchanges(source, action="search", status="ok", direction="outgoing")
        self.assertTrue(pages, "no answer logged")
        for page in pages:
            spec.validate_response(registry, path, json.loads(page.response_payload))
        return pages
