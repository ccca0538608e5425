"""Test harness of the DCI server: a real sender, real HTTP, a real callback receiver.

Everything goes through the running Odoo over HTTP (``HttpCase``): tokens,
signed envelopes, the ACK, the queue jobs (run by queue_job's own
``/queue_job/runjob`` controller code, as the job runner has it run them) and
the callbacks,
which a small HTTP server started by the test receives. Every response body is
validated against the DCI OpenAPI files (``$DCI_SPEC_DIR``).
"""

import contextlib
import json
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from odoo import SUPERUSER_ID, sql_db
from odoo.addons.queue_job.controllers.main import RunJobController
from odoo.addons.queue_job.job import Job
from odoo.addons.spp_dci.dci import spec
from odoo.addons.spp_dci.dci.codes import MsgHeaderStatusReasonCode
from odoo.addons.spp_dci.dci.envelope import build_envelope, verify_envelope
from odoo.addons.spp_dci.dci.http_signature import verify_response
from odoo.addons.spp_dci.dci.keys import PublicKey, SigningKey
from odoo.addons.spp_dci.dci.schemas.common import format_timestamp
from odoo.tests import HttpCase
from odoo.tools import mute_logger

from ..services.callbacks import DeliveryGaveUp
from ..services.totals import totals

ALL_SCOPES = (
    "registry.search registry.subscribe registry.status registry.on-search "
    "registry.on-subscribe registry.notify registry.on-status"
)
CLIENT_SECRET = "test-secret-0123456789abcdefghijklmnop"


class CallbackReceiver:
    """An HTTP server standing for the caller's system (SP-MIS).

    Records every POST (path, headers, parsed JSON, arrival and answer time) and
    counts the TCP connections it accepts (``connections``). ``statuses`` is the
    list of HTTP statuses to answer in turn (then 200); 2xx answers carry an ACK.
    ``delay``: seconds each POST waits before its answer, as a distant receiver
    would; ``max_in_flight``: the most POSTs it was answering at the same time.
    Serves ``GET /jwks.json`` from ``jwks`` (a sender's published keys).
    """

    def __init__(self):
        self.requests = []
        self.statuses = []
        self.jwks = {"keys": []}
        self.jwks_hits = 0
        self.connections = 0
        self.delay = 0
        self.in_flight = self.max_in_flight = 0
        self._lock = threading.Lock()
        receiver = self

        class Server(ThreadingHTTPServer):
            def verify_request(self, request, client_address):
                receiver.connections += 1
                return True

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                receiver.jwks_hits += 1
                body = json.dumps(receiver.jwks).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                with receiver._lock:
                    receiver.in_flight += 1
                    receiver.max_in_flight = max(receiver.max_in_flight, receiver.in_flight)
                try:
                    self.answer()
                finally:
                    with receiver._lock:
                        receiver.in_flight -= 1

            def answer(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    data = json.loads(raw)
                except ValueError:
                    data = None
                record = {
                    "path": self.path,
                    "headers": dict(self.headers),
                    "json": data,
                    "raw": raw,
                    "received_at": datetime.now(UTC),
                }
                receiver.requests.append(record)
                if receiver.delay:
                    time.sleep(receiver.delay)
                record["answered_at"] = datetime.now(UTC)
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                correlation = (data or {}).get("message", {}).get("correlation_id") or str(
                    uuid.uuid4()
                )
                body = json.dumps(
                    {
                        "message": {
                            "ack_status": "ACK" if status < 300 else "ERR",
                            "timestamp": format_timestamp(datetime.now(UTC)),
                            "correlation_id": correlation,
                            **(
                                {}
                                if status < 300
                                else {"error": {"code": "err.service.unavailable"}}
                            ),
                        }
                    }
                ).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def port(self):
        return self.server.server_address[1]

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class ConcurrencyMixin:
    """Another, real transaction, and queue jobs run the way queue_job's runner runs them."""

    @contextlib.contextmanager
    def other_transaction(self):
        """A second PostgreSQL connection; what it did is rolled back at the end."""
        cr = sql_db.db_connect(self.env.cr.dbname).cursor()
        try:
            cr.execute("SET lock_timeout = '5s'")  # never wait on this test for long
            yield cr
        finally:
            cr.rollback()
            cr.close()

    def lock_timeout(self, value):
        """Waiting on the other transaction becomes PostgreSQL's "lock not available"."""
        self.env.cr.execute("SELECT set_config('lock_timeout', %s, true)", (value,))
        self.addCleanup(self.env.cr.execute, "SET LOCAL lock_timeout TO DEFAULT")

    def stored_job(self, method):
        self.env.flush_all()
        (record,) = self.env["queue.job"].search(
            [("state", "=", "pending"), ("method_name", "=", method)]
        )
        return Job.load(self.env, record.uuid)

    @mute_logger("odoo.sql_db")  # the statements cancelled by a lock timeout
    def perform(self, job):
        """What queue_job's runner does: the job in a savepoint, rolled back on failure."""
        self.env.flush_all()
        with self.env.cr.savepoint():
            result = job.perform()
        self.env.invalidate_all()
        return result


class DCIServerCase(HttpCase):
    """Base of the DCI server tests (a sender, its key, helpers)."""

    spec_name = "social"  # the spec the responses are validated against
    endpoint_xmlid = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.receiver = CallbackReceiver().start()
        cls.addClassCleanup(cls.receiver.stop)
        cls.endpoint = cls._make_endpoint()
        cls.endpoint._handle_registry_sync()
        cls.root = cls.endpoint.root_path
        cls.our_id = cls.endpoint.dci_sender_id or cls.env["spp.dci.signing.key"]._dci_sender_id()
        cls.sender_key = SigningKey.generate()
        cls.sender = cls._make_sender("spmis-test", cls.sender_key)

    @classmethod
    def _make_endpoint(cls):
        return cls.env.ref(cls.endpoint_xmlid)

    @classmethod
    def _make_sender(cls, client_id, key=None, **values):
        vals = {
            "name": f"Test sender {client_id}",
            "client_id": client_id,
            "scopes": ALL_SCOPES,
            "allowed_registry_types": cls.endpoint.dci_registry_type,
            "callback_hosts": "127.0.0.1",
            "allow_private_callbacks": True,
            "rate_limit": 0,
        }
        if key is not None:
            vals["key_ids"] = [
                (
                    0,
                    0,
                    {
                        "kid": key.kid,
                        "algorithm": key.algorithm,
                        "public_key": key.public_key.to_pem().decode(),
                    },
                )
            ]
        vals.update(values)
        sender = cls.env["spp.dci.sender"].create(vals)
        sender._dci_set_secret(CLIENT_SECRET)
        return sender

    def setUp(self):
        super().setUp()
        self.receiver.requests.clear()
        self.receiver.statuses.clear()
        self.receiver.connections = 0
        self.receiver.delay = 0
        self.receiver.max_in_flight = 0
        totals.clear()  # counts of another test's (rolled back) records

    # --- HTTP ----------------------------------------------------------------------------

    def url(self, path):
        return f"{self.root}{path}"

    def get_token(self, client_id="spmis-test", scope=None, secret=CLIENT_SECRET, expect=200):
        form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
        if scope:
            form["scope"] = scope
        response = self.url_open(self.url("/oauth2/client/token"), data=form)
        self.assertEqual(response.status_code, expect, response.text)
        return response.json()["access_token"] if expect == 200 else response

    def token(self, client_id="spmis-test", scope=None):
        cache = self.__class__.__dict__.get("_tokens")
        if cache is None:
            cache = {}
            type.__setattr__(self.__class__, "_tokens", cache)
        key = (client_id, scope)
        if key not in cache:
            cache[key] = self.get_token(client_id, scope)
        return cache[key]

    def post_raw(self, path, body, token=None, content_type="application/json", headers=None):
        all_headers = {"Content-Type": content_type}
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        all_headers.update(headers or {})
        return self.opener.post(
            self.base_url() + self.url(path), data=body, headers=all_headers, timeout=60
        )

    def post(self, path, envelope, token=None, client_id="spmis-test", **kwargs):
        token = token if token is not None else self.token(client_id)
        body = json.dumps(envelope).encode() if not isinstance(envelope, bytes) else envelope
        return self.post_raw(path, body, token=token or None, **kwargs)

    # --- messages ------------------------------------------------------------------------

    def header(self, action, total_count=1, sender_id="spmis-test", **values):
        header = {
            "version": "1.0.0",
            "message_id": str(uuid.uuid4()),
            "message_ts": format_timestamp(datetime.now(UTC)),
            "action": action,
            "sender_id": sender_id,
            "receiver_id": self.our_id,
            "total_count": total_count,
            "is_msg_encrypted": False,
        }
        header.update(values)
        return header

    def envelope(
        self,
        action,
        message,
        key=None,
        sender_id="spmis-test",
        header=None,
        signed=True,
        **header_values,
    ):
        header = header or self.header(action, sender_id=sender_id, **header_values)
        return build_envelope(
            header, message, (key or self.sender_key) if signed else None, sender_id
        )

    def search_item(self, query_type, query, reference_id=None, **criteria):
        return {
            "reference_id": reference_id or str(uuid.uuid4()),
            "timestamp": format_timestamp(datetime.now(UTC)),
            "search_criteria": {"query_type": query_type, "query": query, **criteria},
        }

    def search_envelope(self, *items, sender_uri=None, **header_values):
        message = {"transaction_id": str(uuid.uuid4()), "search_request": list(items)}
        if sender_uri:
            header_values["sender_uri"] = sender_uri
        return self.envelope("search", message, total_count=len(items), **header_values)

    # --- checks ----------------------------------------------------------------------------

    def assertSpecResponse(self, path, response, spec_name=None):
        """The body is a valid reply of POST ``path`` for its HTTP status; returns it."""
        body = response.json()
        spec.validate_response(spec_name or self.spec_name, path, body, status=response.status_code)
        return body

    def assertErrorMembers(self, response, code=None):
        """A 4xx/5xx answer: JSON, with ``errors`` and the RFC 9457 members; returns the body."""
        self.assertGreaterEqual(response.status_code, 400, response.text)
        content_type = response.headers.get("Content-Type", "")
        self.assertEqual(content_type.split(";")[0].strip(), "application/json", content_type)
        body = response.json()
        # the errors list is the spec's HttpErrorResponse (401 answers it on every path)
        spec.validate_response("social", "/registry/search", {"errors": body.get("errors")}, 401)
        self.assertTrue(body["errors"], body)
        reason = body["errors"][0]["code"]
        self.assertEqual(body.get("type"), "about:blank", body)
        self.assertEqual(body.get("title"), HTTPStatus(response.status_code).phrase, body)
        self.assertEqual(body.get("status"), response.status_code, body)
        self.assertTrue(body.get("detail", "").startswith(f"{reason}: "), body)
        if code:
            self.assertEqual(reason, code, body)
        return body

    def assertHttpError(self, response, status, code):
        self.assertEqual(response.status_code, status, response.text)
        body = response.json()
        # every DCI path answers 401 with the spec's HttpErrorResponse: validate against it
        spec.validate_response("social", "/registry/search", body, status=401)
        self.assertEqual(body["errors"][0]["code"], code, body)
        self.assertErrorMembers(response, code)
        return body

    def assertErrAck(self, response, status, code, path="/registry/search"):
        self.assertEqual(response.status_code, status, response.text)
        body = self.assertSpecResponse(path, response)
        self.assertEqual(body["message"]["ack_status"], "ERR", body)
        self.assertEqual(body["message"]["error"]["code"], code, body)
        reason = self.assertErrorMembers(response)["errors"][0]["code"]
        if reason != code:  # a rjct.* reason: err.* in the ACK, the reason leading its message
            self.assertTrue(body["message"]["error"]["message"].startswith(reason), body)
        return body

    def assertRejected(
        self, response, status, reason_code=None, path="/registry/sync/search", text=None
    ):
        """A sync reply ``header.status: rjct`` (signed), optionally with a reason code."""
        self.assertEqual(response.status_code, status, response.text)
        body = self.assertSpecResponse(path, response)
        self.assertEqual(body["header"]["status"], "rjct", body)
        if reason_code:
            self.assertEqual(body["header"].get("status_reason_code"), reason_code, body)
        if text:
            self.assertIn(text, body["header"].get("status_reason_message", ""), body)
        self.assertTrue(body.get("signature"), "rejections are signed")
        if status >= 400:
            reason = self.assertErrorMembers(response, reason_code)["errors"][0]["code"]
            if reason in set(MsgHeaderStatusReasonCode):  # what status_reason_code can hold
                self.assertEqual(body["header"].get("status_reason_code"), reason, body)
            else:  # the field allows header reason codes only: the code leads the text
                self.assertNotIn("status_reason_code", body["header"], body)
                self.assertTrue(body["header"]["status_reason_message"].startswith(reason), body)
        return body

    def our_public_keys(self):
        response = self.url_open(self.url("/.well-known/jwks.json"))
        self.assertEqual(response.status_code, 200)
        return {jwk["kid"]: PublicKey.from_jwk(jwk) for jwk in response.json()["keys"]}

    def assertSignedByUs(self, envelope):
        """The DCI body signature verifies against our published JWKS."""
        keys = self.our_public_keys()
        return verify_envelope(
            envelope,
            lambda sender, kid: keys.get(kid) if sender == self.our_id else None,
            expected_sender_id=self.our_id,
        )

    def assertHttpSigned(self, response):
        """The HTTP response carries a valid RFC 9421 signature by our key."""
        keys = self.our_public_keys()
        result = verify_response(
            response.status_code, response.headers, response.content, lambda kid: keys.get(kid)
        )
        self.assertIn(result.key_id, keys)
        return result

    # --- queue jobs ----------------------------------------------------------------------------

    def commit_hooks(self):
        """What a commit of the test's transaction would do before COMMIT: flush and
        run the precommit hooks (the registry changes become a match job there)."""
        self.env.cr.flush()

    def run_jobs(self, rounds=10, ignore_eta=True, method=None):
        """Run the pending DCI jobs as the job runner has them run (after
        :meth:`commit_hooks`); ``method``: only the jobs of that method."""
        ran = 0
        for _round in range(rounds):
            self.commit_hooks()
            domain = [("state", "=", "pending"), ("model_name", "like", "spp.dci.%")]
            if method:
                domain.append(("method_name", "=", method))
            if not ignore_eta:
                domain += ["|", ("eta", "=", False), ("eta", "<=", datetime.now())]
            jobs = self.env["queue.job"].search(domain, order="id")
            if not jobs:
                break
            for job in jobs:
                self.run_job(job)
                ran += 1
            self.env.invalidate_all()
        self.env.invalidate_all()
        return ran

    @mute_logger("odoo.addons.queue_job.controllers.main")  # the traceback of a failed job
    def run_job(self, record):
        """One job through queue_job's /queue_job/runjob code (``_runjob``: perform in a
        savepoint, done; or rolled back, failed with the reason and the on-fail hook run
        in a new transaction), in this test's transaction. Acquiring it is the
        controller's minus its commit. A delivery that gave up is a failed job."""
        job = Job.load(self.env(user=SUPERUSER_ID), record.uuid)
        job.set_started()
        job.store()
        try:
            RunJobController._runjob(job.env, job)
        except DeliveryGaveUp:
            pass  # the job is failed, as the runner's request would have left it
        self.env.invalidate_all()
        return record

    def pending_jobs(self):
        self.env.invalidate_all()
        return self.env["queue.job"].search(
            [("state", "=", "pending"), ("model_name", "like", "spp.dci.%")]
        )

    @staticmethod
    def soon(seconds=0):
        return datetime.now(UTC) + timedelta(seconds=seconds)
