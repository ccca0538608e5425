import json
import socket
from datetime import datetime, timedelta
from unittest.mock import patch

from odoo.addons.spp_dci.dci import spec
from odoo.addons.spp_dci.dci.http_signature import verify_request
from odoo.addons.spp_dci_server.services.replies import restamped_envelope
from odoo.tests import tagged

from .common import SocialCase

ASYNC = "/registry/search"


@tagged("post_install", "-at_install")
class TestAsyncSearch(SocialCase):
    """/registry/search: ACK now, a queue job, a signed on-search callback to sender_uri."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        params = cls.env["ir.config_parameter"]
        params.set_param("spp_dci_server.delivery_max_attempts", 3)
        params.set_param("spp_dci_server.delivery_backoff", 10)

    def ask(self, sender_uri, *items):
        items = items or (self.search_item("idtype-value", {"type": "UIN", "value": "ZB-UIN-002"}),)
        envelope = self.search_envelope(*items, sender_uri=sender_uri)
        response = self.post(ASYNC, envelope)
        body = self.assertSpecResponse(ASYNC, response)
        self.assertEqual(response.status_code, 200, body)
        self.assertEqual(body["message"]["ack_status"], "ACK")
        self.assertHttpSigned(response)
        txn = self.env["spp.dci.transaction"].search(
            [("correlation_id", "=", body["message"]["correlation_id"])]
        )
        self.assertEqual(txn.mode, "async")
        return envelope, body["message"]["correlation_id"], txn

    def test_ack_then_signed_callback(self):
        sender_uri = self.receiver.url("/spmis/dci/registry/on-search?tenant=7")
        bad_item = self.search_item(
            "expression", self.expression({"nope": {"$eq": 1}}), reference_id="bad"
        )
        envelope, correlation_id, txn = self.ask(
            sender_uri,
            self.search_item("idtype-value", {"type": "UIN", "value": "ZB-UIN-002"}),
            bad_item,
        )
        self.assertEqual(txn.state, "received")
        self.assertEqual(self.receiver.requests, [], "nothing is sent before the job runs")
        self.assertTrue(self.pending_jobs())
        self.run_jobs()
        [callback] = self.receiver.requests
        self.assertEqual(
            callback["path"],
            "/spmis/dci/registry/on-search?tenant=7",
            "sender_uri exactly as given",
        )
        data = callback["json"]
        spec.validate_request("social", "/registry/on-search", data)
        self.assertEqual(data["header"]["action"], "on-search")
        self.assertEqual(data["header"]["receiver_id"], "spmis-test")
        self.assertEqual(data["message"]["transaction_id"], envelope["message"]["transaction_id"])
        self.assertEqual(data["message"]["correlation_id"], correlation_id)
        results = data["message"]["search_response"]
        self.assertEqual(results[0]["data"]["reg_records"][0]["name"]["given_name"], "Bob")
        self.assertEqual(
            (results[1]["status"], results[1]["status_reason_code"]),
            ("rjct", "rjct.filter.invalid"),
        )
        self.assertSignedByUs(data)
        # the transport signature (RFC 9421) of the callback request verifies too
        keys = self.our_public_keys()
        verify_request(
            "POST", sender_uri, callback["headers"], callback["raw"], lambda kid: keys.get(kid)
        )
        txn.invalidate_recordset()
        self.assertEqual(
            (txn.state, txn.delivery_state, txn.delivery_attempts), ("done", "sent", 1)
        )
        self.assertEqual(txn.delivery_http_status, 200)

    def test_retries_with_backoff_then_success(self):
        self.receiver.statuses = [503, 502]
        _envelope, _correlation, txn = self.ask(self.receiver.url("/cb/on-search"))
        self.run_jobs(rounds=2)  # the batch job answers, its send job makes the first attempt
        txn.invalidate_recordset()
        self.assertEqual((txn.delivery_state, txn.delivery_attempts), ("retrying", 1))
        self.assertIn("503", txn.delivery_last_error)
        first_delay = txn.delivery_next_try - datetime.now()
        self.assertAlmostEqual(first_delay.total_seconds(), 10, delta=5)
        [job] = self.pending_jobs()  # the next attempt is the callback's own delivery job
        self.assertEqual(job.method_name, "_dci_deliver")
        self.assertAlmostEqual((job.eta - datetime.now()).total_seconds(), 10, delta=5)
        self.run_jobs(rounds=1)
        txn.invalidate_recordset()
        self.assertEqual((txn.delivery_state, txn.delivery_attempts), ("retrying", 2))
        self.assertAlmostEqual(
            (txn.delivery_next_try - datetime.now()).total_seconds(), 20, delta=5
        )
        self.run_jobs(rounds=1)
        txn.invalidate_recordset()
        self.assertEqual((txn.delivery_state, txn.delivery_attempts), ("sent", 3))
        self.assertEqual(len(self.receiver.requests), 3)
        self.assertAttemptsFresh(self.receiver.requests, txn)

    def test_first_attempt_sends_the_answer_as_signed(self):
        """The first attempt, moments after the batch job answered, sends the envelope it
        signed then; a stored answer stamped longer ago is stamped and signed again."""
        _envelope, _correlation, txn = self.ask(self.receiver.url("/cb/on-search"))
        self.run_jobs(rounds=2)  # the batch job, then its send job
        [sent] = self.receiver.requests
        txn.invalidate_recordset()
        self.assertEqual(sent["json"], txn.sudo().delivery_payload)
        self.assertSignedByUs(sent["json"])
        # a stored answer stamped long ago, not yet attempted (a delivery job run late)
        stale = dict(txn.sudo().delivery_payload)
        stale["header"] = {**stale["header"], "message_ts": "2020-01-01T00:00:00.000Z"}
        txn.sudo().write(
            {"delivery_payload": stale, "delivery_state": "queued", "delivery_attempts": 0}
        )
        signer = self.env["spp.dci.signing.key"]._dci_signer()
        restamped = restamped_envelope(stale, signer, just_signed=True)
        self.assertNotEqual(restamped["header"]["message_ts"], "2020-01-01T00:00:00.000Z")
        txn._dci_deliver()  # a delivery job: stamped and signed when sent
        resent = self.receiver.requests[-1]["json"]
        self.assertNotEqual(resent["header"]["message_ts"], "2020-01-01T00:00:00.000Z")
        self.assertNotEqual(resent["signature"], stale["signature"])
        self.assertEqual(resent["header"]["message_id"], stale["header"]["message_id"])
        self.assertAttemptsFresh(self.receiver.requests[-1:], txn)

    def assertAttemptsFresh(self, attempts, txn):
        """Every attempt: the same message and message_id, stamped and signed when sent."""
        keys = self.our_public_keys()
        envelopes = [attempt["json"] for attempt in attempts]
        self.assertEqual({e["header"]["message_id"] for e in envelopes}, {txn.delivery_message_id})
        self.assertEqual(len({json.dumps(e["message"], sort_keys=True) for e in envelopes}), 1)
        self.assertEqual(len({e["header"]["message_ts"] for e in envelopes}), len(attempts))
        self.assertEqual(len({e["signature"] for e in envelopes}), len(attempts))
        for attempt, envelope in zip(attempts, envelopes, strict=True):
            # as a strict receiver sees it on arrival: message_ts now, signature valid now
            stamped = datetime.fromisoformat(envelope["header"]["message_ts"])
            self.assertLess(abs((attempt["received_at"] - stamped).total_seconds()), 5)
            self.assertSignedByUs(envelope)
            verify_request(
                "POST",
                self.receiver.url(attempt["path"]),
                attempt["headers"],
                attempt["raw"],
                lambda kid: keys.get(kid),
            )

    def test_gives_up_then_retry_button(self):
        self.receiver.statuses = [500, 500, 500]
        _envelope, _correlation, txn = self.ask(self.receiver.url("/cb/on-search"))
        self.run_jobs()
        txn.invalidate_recordset()
        self.assertEqual((txn.delivery_state, txn.delivery_attempts), ("failed", 3))
        self.assertIn("HTTP 500", txn.delivery_last_error)
        self.assertFalse(self.pending_jobs())
        # the delivery job that gave up is failed, with the reason (the Job Queue's filter)
        [job] = self.failed_delivery_jobs(txn)
        self.assertIn("gave up: attempt 3 failed: HTTP 500", job.exc_message)
        failed = self.env["spp.dci.transaction"].search(
            [("delivery_state", "=", "failed"), ("id", "=", txn.id)]
        )
        self.assertEqual(failed, txn, "listed by the 'Callback Failed' filter")
        txn.action_retry_delivery()
        self.assertEqual(txn.delivery_state, "queued")
        self.run_jobs()
        txn.invalidate_recordset()
        self.assertEqual((txn.delivery_state, txn.delivery_attempts), ("sent", 1))
        self.assertEqual(len(self.receiver.requests), 4)
        self.assertAttemptsFresh(self.receiver.requests, txn)

    def test_client_error_is_not_retried(self):
        self.receiver.statuses = [400]
        _envelope, _correlation, txn = self.ask(self.receiver.url("/cb/on-search"))
        self.run_jobs()
        txn.invalidate_recordset()
        self.assertEqual(
            (txn.delivery_state, txn.delivery_attempts, txn.delivery_http_status),
            ("failed", 1, 400),
        )
        # given up at the batch job's first attempt: listed as a failed delivery job too
        [job] = self.failed_delivery_jobs(txn)
        self.assertIn("HTTP 400", job.exc_message)
        self.assertEqual(len(self.receiver.requests), 1, "not retried")

    def failed_delivery_jobs(self, txn):
        jobs = self.env["queue.job"].search(
            [
                ("state", "=", "failed"),
                ("model_name", "=", "spp.dci.transaction"),
                ("method_name", "=", "_dci_deliver"),
            ]
        )
        return jobs.filtered(lambda job: job.records == txn)

    def test_callback_targets_are_checked(self):
        item = self.search_item("idtype-value", {"type": "UIN", "value": "ZB-UIN-002"})
        cases = [
            None,  # no sender_uri at all
            "https://evil.example.org/on-search",  # not a callback host of the sender
            "ftp://127.0.0.1/on-search",
            "http://user:pw@127.0.0.1/on-search",
        ]
        for uri in cases:
            with self.subTest(uri=uri):
                response = self.post(ASYNC, self.search_envelope(item, sender_uri=uri))
                self.assertErrAck(response, 400, "err.sender_uri.invalid")
        # without the administrator's permission, private addresses are refused (SSRF)
        strict = self._make_sender("spmis-strict", self.sender_key, allow_private_callbacks=False)
        self.assertTrue(strict)
        token = self.get_token("spmis-strict")
        header = self.header(
            "search", sender_id="spmis-strict", sender_uri="https://127.0.0.1/on-search"
        )
        envelope = self.envelope(
            "search",
            {"transaction_id": "t", "search_request": [item]},
            header=header,
            sender_id="spmis-strict",
        )
        response = self.post(ASYNC, envelope, token=token)
        body = self.assertErrAck(response, 400, "err.sender_uri.invalid")
        self.assertIn("private", body["message"]["error"]["message"])

    def test_delivery_recheck_blocks_private_targets(self):
        _envelope, _correlation, txn = self.ask(self.receiver.url("/cb/on-search"))
        self.sender.allow_private_callbacks = False  # the administrator changed their mind
        self.run_jobs()
        txn.invalidate_recordset()
        self.assertEqual(txn.delivery_state, "failed")
        self.assertEqual(self.receiver.requests, [])
        self.sender.allow_private_callbacks = True

    def test_eta_respected_by_runner_filter(self):
        self.receiver.statuses = [503]
        self.ask(self.receiver.url("/cb/on-search"))
        self.run_jobs(rounds=2)  # the batch job answers, its send job makes the first attempt
        self.assertEqual(self.run_jobs(ignore_eta=False), 0, "the retry waits for its eta")
        self.assertTrue(self.pending_jobs())
        self.assertGreater(self.pending_jobs().eta, datetime.now() + timedelta(seconds=1))

    def test_callback_host_rebinding_cannot_reach_private_addresses(self):
        """The connection goes to the address that passed the check, not to a later answer.

        The attacker's DNS (our resolver, patched) answers a public address to the
        checks and the receiver's loopback address afterwards.
        """
        name = "rebind.callback.test"
        self._make_sender(
            "spmis-rebind", self.sender_key, callback_hosts=name, allow_private_callbacks=False
        )
        token = self.get_token("spmis-rebind")
        sender_uri = f"https://{name}:{self.receiver.port}/cb/on-search"
        item = self.search_item("idtype-value", {"type": "UIN", "value": "ZB-UIN-002"})
        header = self.header("search", sender_id="spmis-rebind", sender_uri=sender_uri)
        envelope = self.envelope(
            "search",
            {"transaction_id": "rebind-1", "search_request": [item]},
            header=header,
            sender_id="spmis-rebind",
        )
        answers = ["93.184.215.14", "93.184.215.14"]  # the request's check, the delivery's
        asked = []
        system_dns = socket.getaddrinfo

        def attacker_dns(host, port, *args, **kwargs):
            if host != name:
                return system_dns(host, port, *args, **kwargs)
            address = answers.pop(0) if answers else "127.0.0.1"
            asked.append(address)
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, int(port)))]

        with patch("socket.getaddrinfo", attacker_dns):
            response = self.post(ASYNC, envelope, token=token)
            ack = self.assertSpecResponse(ASYNC, response)
            self.assertEqual(ack["message"]["ack_status"], "ACK", ack)
            self.run_jobs()
        txn = self.env["spp.dci.transaction"].search(
            [("correlation_id", "=", ack["message"]["correlation_id"])]
        )
        self.assertEqual(self.receiver.connections, 0, "the private address was never reached")
        self.assertEqual(self.receiver.requests, [])
        self.assertEqual(asked[-1], "127.0.0.1", "the connection asked the resolver itself")
        self.assertEqual((txn.delivery_state, txn.delivery_attempts), ("failed", 1))
        self.assertIn("resolves to a private or reserved address", txn.delivery_last_error)
