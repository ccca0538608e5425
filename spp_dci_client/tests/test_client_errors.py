# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
"""Bad answers, bad signatures, key rotation, timeouts, retries and "Test connection"."""

import time

from cryptography.hazmat.primitives import serialization

from odoo.addons.spp_dci_client.models.spp_dci_data_source import DCIClientUserError
from odoo.tests import Form, tagged

from .common import CLIENT_ID, CLIENT_SECRET, DCIClientHttpCase

QUERY = ("idtype-value", {"type": "UIN", "value": "UIN-0001"})


@tagged("post_install", "-at_install")
class TestAnswerChecks(DCIClientHttpCase):
    def assertRefused(self, kind, pattern):
        with self.assertRaisesRegex(DCIClientUserError, pattern) as caught:
            self.source._dci_sync_search(*QUERY)
        self.assertEqual(caught.exception.kind, kind)
        entry = self.logs(action="search")[-1]
        self.assertEqual((entry.status, entry.error_kind), ("error", kind))
        self.assertIn(caught.exception.args[0], entry.error)
        # nothing but the log was written: no transaction, no subscription
        self.assertFalse(
            self.env["spp.dci.client.transaction"].search([("data_source_id", "=", self.source.id)])
        )
        return caught.exception

    def test_not_found_names_the_url_and_what_to_check(self):
        """A 404 says which URL answered it and where to fix it (base URL, Paths tab)."""
        self.stub.no_txn_status = True  # the registry serves no txn/status path
        with self.assertRaisesRegex(DCIClientUserError, "HTTP 404") as caught:
            self.source._dci_sync_txn_status("txn-0001")
        error = caught.exception
        self.assertEqual(error.kind, "http")
        self.assertIn(f"HTTP 404 at {self.stub.url}/registry/sync/txn/status", str(error))
        self.assertIn("Check the data source's Base URL", str(error))
        self.assertIn("Paths tab", str(error))
        self.assertEqual(error.error.http_status, 404)

    def test_forged_signature(self):
        self.stub.mode = "forged"
        self.assertRefused("signature", "does not match its content")

    def test_expired_signature(self):
        self.stub.mode = "expired"
        self.assertRefused("signature", "signature has expired")

    def test_registry_refuses_our_signature(self):
        self.stub.client_keys.clear()  # the registry does not know our key
        self.assertRefused("auth", "refused our signature: err.signature.invalid")
        self.assertEqual(
            self.stub.signature_errors[-1][1],
            "unknown key " + self.env["spp.dci.signing.key"]._dci_signer().kid,
        )

    def test_unsigned_answer_when_signatures_are_required(self):
        self.stub.mode = "unsigned"
        self.assertRefused("signature", "not signed")

    def test_unsigned_answer_accepted_when_allowed(self):
        self.stub.mode = "unsigned"
        self.source.require_signature = False
        result = self.source._dci_sync_search(*QUERY)
        self.assertIsNone(result.key_id)

    def test_placeholder_signature_when_signatures_are_required(self):
        """Not a DCI signature: refused, with what to do in words (not the parser's error)."""
        self.stub.mode = "placeholder"
        error = self.assertRefused("signature", "is not a DCI signature")
        self.assertIn("Ask the registry's operator to sign its answers", str(error))
        self.assertIn('untick "Require Signature"', str(error))

    def test_placeholder_signature_accepted_as_unsigned_when_allowed(self):
        self.stub.mode = "placeholder"
        self.source.require_signature = False
        result = self.source._dci_sync_search(*QUERY)
        self.assertIsNone(result.key_id)
        self.assertEqual(len(result.message.search_response), 1)
        entry = self.logs(action="search")[-1]
        self.assertEqual(entry.status, "ok")
        self.assertIn("not a DCI signature", entry.note)
        self.assertIn("accepted as unsigned", entry.note)

    def test_forged_dci_signature_refused_even_when_not_required(self):
        """A DCI signature that does not verify stays refused: that is what a forgery is."""
        self.stub.mode = "forged"
        self.source.require_signature = False
        self.assertRefused("signature", "does not match its content")

    def test_answer_signed_by_another_registry(self):
        self.source.registry_sender_id = "another.registry"
        self.assertRefused("signature", "not from this registry")

    def test_garbage_answer(self):
        self.stub.mode = "garbage"
        self.assertRefused("spec", "not JSON .*is the base URL a DCI registry")
        self.assertIn("nginx", self.logs(action="search")[-1].response_payload)

    def test_spec_invalid_answer(self):
        self.stub.mode = "invalid"
        self.assertRefused("spec", "does not follow the DCI 1.0.0 spec: header.message_id")

    def test_answer_to_another_transaction(self):
        self.stub.mode = "wrong_txn"
        self.assertRefused("protocol", "not ours")

    def test_stored_public_key_without_jwks(self):
        pem = (
            self.stub.key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )
        self.source.write(
            {"jwks_url": False, "key_ids": [(0, 0, {"kid": self.stub.kid, "public_key": pem})]}
        )
        result = self.source._dci_sync_search(*QUERY)
        self.assertEqual(result.key_id, self.stub.kid)
        self.stub.mode = "forged"
        self.assertRefused("signature", "does not match")

    def test_prepublished_key_rotation_needs_no_step(self):
        self.stub.prepublish("stub-key-next")
        self.assertEqual(self.source._dci_sync_search(*QUERY).key_id, "stub-key-1")
        self.stub.rotate_to("stub-key-next")
        self.assertEqual(self.source._dci_sync_search(*QUERY).key_id, "stub-key-next")

    def test_unannounced_key_rotation_is_picked_up_from_the_jwks(self):
        self.stub.jwks_cache_control = "no-cache"  # the JWKS cache keeps it for its minimum, 10 s
        self.assertEqual(self.source._dci_sync_search(*QUERY).key_id, "stub-key-1")
        self.stub.rotate(publish_old=False)
        # within the JWKS cache's refetch rate limit, the unknown kid is refused...
        with self.assertRaisesRegex(DCIClientUserError, "key this data source does not know"):
            self.source._dci_sync_search(*QUERY)
        # ...and accepted once the cached key set is stale, with no manual step
        time.sleep(10.5)
        self.assertEqual(self.source._dci_sync_search(*QUERY).key_id, "stub-key-2")


@tagged("post_install", "-at_install")
class TestTransport(DCIClientHttpCase):
    def test_timeout(self):
        self.stub.delay = 1.5
        self.source.write({"timeout": 0.5, "retries": 1})
        start = time.monotonic()
        with self.assertRaisesRegex(DCIClientUserError, r"did not answer within 0.5 s") as caught:
            self.source._dci_sync_search(*QUERY)
        self.assertEqual(caught.exception.kind, "timeout")
        self.assertLess(time.monotonic() - start, 5)
        # the token request timed out twice (one retry); nothing else was sent
        attempts = self.logs(status="error")
        self.assertEqual([a.error_kind for a in attempts], ["timeout", "timeout"])

    def test_retries_with_backoff_on_transport_errors(self):
        self.source._dci_sync_search(*QUERY)  # token cached
        self.source.write({"retries": 3, "retry_backoff": 0.1})
        self.stub.fail_next = ["503", "drop", "503"]
        start = time.monotonic()
        result = self.source._dci_sync_search(*QUERY)
        self.assertGreaterEqual(time.monotonic() - start, 0.1 + 0.2 + 0.4)
        self.assertEqual(result.message.search_response[0].status.value, "succ")
        attempts = self.logs(action="search")[1:]
        self.assertEqual([a.attempt for a in attempts], [1, 2, 3, 4])
        self.assertEqual([a.status for a in attempts], ["error", "error", "error", "ok"])
        self.assertEqual(attempts[0].http_status, 503)
        self.assertEqual(attempts[1].error_kind, "network")

    def test_retries_exhausted(self):
        self.source._dci_sync_search(*QUERY)
        self.source.write({"retries": 1, "retry_backoff": 0})
        self.stub.fail_next = ["503", "503"]
        with self.assertRaisesRegex(DCIClientUserError, "HTTP 503: err.service.unavailable"):
            self.source._dci_sync_search(*QUERY)

    def test_connection_refused(self):
        self.stub.stop()
        with self.assertRaisesRegex(DCIClientUserError, "Connection refused"):
            self.source._dci_sync_search(*QUERY)


@tagged("post_install", "-at_install")
class TestConnectionButton(DCIClientHttpCase):
    def check(self, source=None):
        source = source or self.source
        action = source.action_test_connection()
        return source.last_check_ok, source.last_check_message, action["params"]["type"]

    def test_ok(self):
        ok, message, kind = self.check()
        self.assertTrue(ok)
        self.assertEqual(kind, "success")
        self.assertIn("Connection OK", message)
        self.assertIn("OAuth2: token obtained", message)
        self.assertIn("JWKS: 1 signature key(s)", message)
        self.assertIn(
            f"signed by {self.stub.sender_id} with key stub-key-1, signature verified", message
        )
        self.assertStubSawValidRequests(self.stub)

    def test_result_and_configuration_changes_are_in_the_chatter(self):
        self.env.flush_all()
        self.env.cr.flush()  # the data source was configured before
        self.source.write({"base_url": self.source.base_url + "/", "timeout": 5})
        _ok, _message, _kind = self.check()
        self.env.flush_all()
        self.env.cr.flush()
        self.env.invalidate_all()
        [posted] = self.source.message_ids.filtered(lambda m: "Test connection" in m.body)
        self.assertIn("Connection OK", posted.body)
        tracked = self.source.message_ids.tracking_value_ids.mapped("field_id.name")
        self.assertIn("base_url", tracked)
        self.assertNotIn("timeout", tracked, "transport tuning is not tracked")
        self.source.write({"oauth2_client_secret": "a-new-secret-never-shown"})
        self.env.flush_all()
        self.env.cr.flush()
        self.env.invalidate_all()
        texts = " ".join(
            [
                *self.source.message_ids.mapped("body"),
                *self.source.message_ids.tracking_value_ids.mapped("new_value_char"),
            ]
        )
        self.assertNotIn("a-new-secret-never-shown", texts)

    def test_dns(self):
        self.source.write(
            {
                "base_url": "http://registry.does-not-exist.invalid",
                "auth_type": "none",
                "jwks_url": False,
            }
        )
        self.source.key_ids = [(0, 0, {"kid": "k", "public_key": self._any_pem()})]
        ok, message, kind = self.check()
        self.assertFalse(ok)
        self.assertEqual(kind, "danger")
        self.assertIn(
            "DNS: the host name 'registry.does-not-exist.invalid' cannot be resolved", message
        )

    def test_tls(self):
        stub = self.start_stub(tls=True)
        source = self.make_source(stub, registry_sender_id="tls.registry", jwks_url=False)
        ok, message, _kind = self.check(source)
        self.assertFalse(ok)
        self.assertIn("TLS: the certificate of 127.0.0.1", message)
        self.assertIn("not trusted", message)

    def test_tls_verification_off_for_test_systems(self):
        stub = self.start_stub(tls=True, sender_id="tls.registry")
        source = self.make_source(stub, tls_verify=False)
        ok, message, _kind = self.check(source)
        self.assertTrue(ok, message)

    def test_401(self):
        self.source.oauth2_client_secret = "wrong"
        ok, message, _kind = self.check()
        self.assertFalse(ok)
        self.assertIn("refused our OAuth2 client id/secret (HTTP 401, invalid_client)", message)

    def test_bad_signature(self):
        self.stub.mode = "forged"
        ok, message, _kind = self.check()
        self.assertFalse(ok)
        self.assertIn("Bad signature", message)

    def test_unsigned_registry_without_jwks_set_up_in_the_form(self):
        """Signed answers not required: the form leaves the JWKS URL empty, the check passes."""
        stub = self.start_stub(sender_id="unsigned.registry")
        stub.auth = ("oauth2", CLIENT_ID, CLIENT_SECRET)
        stub.mode = "unsigned"
        stub.no_jwks = True
        with Form(self.env["spp.dci.data.source"]) as form:
            form.name = "Unsigned test registry"
            form.registry_type = "social"
            form.require_signature = False
            form.base_url = stub.url
            form.registry_sender_id = stub.sender_id
            form.auth_type = "oauth2"
            form.oauth2_client_id = CLIENT_ID
            form.oauth2_client_secret = CLIENT_SECRET
            self.assertFalse(form.jwks_url, "not filled in: nothing to verify with")
        ok, message, kind = self.check(form.record)
        self.assertTrue(ok, message)
        self.assertEqual(kind, "success")
        self.assertIn("not signed", message)

    def test_unticking_require_signature_clears_the_default_jwks_url(self):
        with Form(self.env["spp.dci.data.source"]) as form:
            form.name = "Test registry"
            form.registry_type = "social"
            form.base_url = "https://sr.example.org/dci"
            form.registry_sender_id = "sr.example.org"
            form.auth_type = "none"
            self.assertEqual(form.jwks_url, "https://sr.example.org/dci/.well-known/jwks.json")
            form.require_signature = False
            self.assertFalse(form.jwks_url)
            form.require_signature = True
            self.assertEqual(form.jwks_url, "https://sr.example.org/dci/.well-known/jwks.json")
            form.jwks_url = "https://keys.example.org/jwks.json"
            form.require_signature = False
            self.assertEqual(form.jwks_url, "https://keys.example.org/jwks.json", "typed: kept")

    def test_jwks_unreachable_when_signatures_are_not_required(self):
        """A JWKS URL that answers 404 is a warning, not a failure, when nothing needs it."""
        self.stub.mode = "unsigned"
        self.stub.no_jwks = True
        self.source.require_signature = False
        ok, message, _kind = self.check()
        self.assertTrue(ok, message)
        self.assertIn("JWKS: the registry's keys could not be loaded", message)
        self.assertIn("not needed, as signed answers are not required", message)

    def test_jwks_unreachable_when_signatures_are_required(self):
        self.stub.no_jwks = True
        ok, message, _kind = self.check()
        self.assertFalse(ok)
        self.assertIn("FAILED: JWKS: the registry's keys could not be loaded", message)

    def test_spec_invalid(self):
        self.stub.mode = "invalid"
        ok, message, _kind = self.check()
        self.assertFalse(ok)
        self.assertIn("does not follow the DCI 1.0.0 spec", message)

    def _any_pem(self):
        return (
            self.stub.key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )
