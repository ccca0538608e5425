# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
"""spp_dci_client against this project's own DCI server (/dci/social), over real HTTP.

This OpenSPP is both sides: its client (a data source pointing at its own
/dci/social) calls its own registry server, which answers, and - for async
requests - calls back our receivers on the same DCI app. The server knows the
client as the DCI sender ``<our sender id>``, with our public key; the
client knows the server as a data source with the server's JWKS.

Jobs are performed in the test thread (queue_job's ``Job.perform``): the
server's delivery job POSTs to this same Odoo, which could not answer while a
``/queue_job/runjob`` request held the test cursor.
"""

import contextlib
import json
from unittest.mock import patch

from odoo.addons.queue_job.job import Job
from odoo.addons.spp_dci.dci import spec
from odoo.addons.spp_dci_client.models.spp_dci_data_source import jwks_cache_for
from odoo.addons.spp_dci_server_social.tests.common import SURNAME, SocialCase
from odoo.tests import tagged

SECRET = "own-server-secret-0123456789abcdefghij"
ALL_SCOPES = (
    "registry.search registry.subscribe registry.status registry.on-search "
    "registry.on-subscribe registry.notify registry.on-status"
)


@tagged("post_install", "-at_install")
class TestClientAgainstOwnServer(SocialCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        root = cls.base_url() + cls.root
        signer = cls.env["spp.dci.signing.key"]._dci_signer()
        sender = cls.env["spp.dci.sender"].create(
            {
                "name": "This OpenSPP's own DCI client",
                "client_id": cls.our_id,
                "scopes": ALL_SCOPES,
                "allowed_registry_types": "social",
                "key_ids": [
                    (
                        0,
                        0,
                        {
                            "kid": signer.kid,
                            "algorithm": signer.algorithm,
                            "public_key": signer.public_key.to_pem().decode(),
                        },
                    )
                ],
                "callback_hosts": "127.0.0.1",
                "allow_private_callbacks": True,
                "rate_limit": 0,
                "callback_token_url": root + "/oauth2/client/token",
                "callback_client_id": cls.our_id,
                "callback_client_secret": SECRET,
            }
        )
        sender._dci_set_secret(SECRET)
        cls.source = cls.env["spp.dci.data.source"].create(
            {
                "name": "This OpenSPP (social registry)",
                "registry_type": "social",
                "base_url": root,
                "registry_sender_id": cls.our_id,
                "jwks_url": root + "/.well-known/jwks.json",
                "auth_type": "oauth2",
                "oauth2_client_id": cls.our_id,
                "oauth2_client_secret": SECRET,
                "callback_base_url": root,
                "timeout": 30,
                "page_size": 2,
            }
        )

    def setUp(self):
        super().setUp()
        # the JWKS cache is per process: start each test from what our server publishes now
        jwks_cache_for(self.source.jwks_url).invalidate(self.source.jwks_url)

    @contextlib.contextmanager
    def served(self):
        """Let our own HTTP server answer while the client (in this thread) waits for it."""
        self.env.flush_all()
        with self.allow_requests(all_requests=True):
            yield
        self.env.invalidate_all()

    def perform_jobs(self):
        """Perform the pending DCI jobs here (their HTTP calls reach this same Odoo)."""
        done = []
        for _round in range(5):
            self.env.flush_all()
            jobs = self.env["queue.job"].search(
                [("state", "=", "pending"), ("model_name", "like", "spp.dci.%")], order="id"
            )
            if not jobs:
                break
            for record in jobs:
                job = Job.load(self.env, record.uuid)
                with self.served():
                    job.perform()
                job.set_done()
                job.store()
                done.append(record.model_name)
        self.env.invalidate_all()
        return done

    def test_connection_button(self):
        with self.served():
            ok, message = self.source._dci_check_connection()
        self.assertTrue(ok, message)
        self.assertIn("OAuth2: token obtained", message)
        self.assertIn(f"signed by {self.our_id} with key", message)

    def test_sync_search_with_paging(self):
        query = self.expression({"surname": {"$eq": SURNAME}})
        with self.served():
            records = list(
                self.source._dci_iter_records("expression", query, reg_record_type="Person")
            )
        self.assertEqual(
            sorted(r["name"]["given_name"] for r in records), ["Alice", "Bob", "Charlie", "Daisy"]
        )
        pages = self.env["spp.dci.client.exchange.log"].search(
            [
                ("data_source_ref", "=", self.source.id),
                ("action", "=", "search"),
                ("status", "=", "ok"),
            ]
        )
        self.assertEqual(len(pages), 2, "four records, two per page")
        for page in pages:  # what our server answered is what the spec says
            spec.validate_response(
                "social", "/registry/sync/search", json.loads(page.response_payload)
            )

    def test_sync_search_by_id(self):
        with self.served():
            result = self.source._dci_sync_search(
                "idtype-value", {"type": "UIN", "value": "ZB-UIN-002"}
            )
        self.assertEqual(result.header.sender_id, self.our_id)
        [record] = result.message.search_response[0].data.reg_records
        self.assertEqual(record["name"]["given_name"], "Bob")

    def test_async_search_round_trip(self):
        with self.served():
            # Our keys reach the JWKS cache as in production (the first verified answer).
            # Here it matters: our receiver, inside a request on the one test cursor, could
            # not fetch them from this same Odoo.
            self.assertTrue(self.source._dci_check_connection()[0])
            sent = self.source._dci_search_async(
                "idtype-value", {"type": "UIN", "value": "ZB-UIN-004"}
            )
        txn = self.env["spp.dci.client.transaction"].browse(sent["id"])
        self.assertEqual((txn.state, txn.ack_status), ("pending", "ACK"))
        self.assertTrue(txn.correlation_id)

        source_class = type(self.env["spp.dci.data.source"])
        original = source_class._dci_handle_records
        calls = []

        def spy(source, records, **kwargs):
            calls.append((source.id, records, kwargs))
            return original(source, records, **kwargs)

        with patch.object(source_class, "_dci_handle_records", spy):
            ran = self.perform_jobs()
        # the server processed and delivered; our receiver accepted, the inbox job handled
        self.assertIn("spp.dci.transaction", ran)
        self.assertIn("spp.dci.inbox", ran)
        self.assertEqual((txn.state, txn.callback_count, txn.record_count), ("done", 1, 1))
        [(source_id, records, kwargs)] = calls
        self.assertEqual(source_id, self.source.id)
        self.assertEqual(records[0]["name"]["given_name"], "Daisy")
        self.assertEqual(kwargs["action"], "on-search")
        incoming = self.env["spp.dci.client.exchange.log"].search(
            [("data_source_ref", "=", self.source.id), ("direction", "=", "incoming")]
        )
        self.assertEqual((incoming.action, incoming.status), ("on-search", "ok"))
        self.assertEqual(incoming.transaction_id, txn.transaction_id)
