"""A strict DCI peer for the fault run: verifies every callback, can be down.

Listens on a fixed 127.0.0.1 port (so it can go down and come back on the same
callback URL). Every POST is a DCI callback (on-search, on-subscribe, notify):
its body signature must verify with the registry's published keys and name the
registry as sender, and its ``message_ts`` must be at most ``max_age`` seconds
old, as a strict receiver checks. It records each callback by ``message_id``
(a re-delivery of the same message is recognised, as a receiver would) and by
what it answers: ``correlation_id`` (on-search, on-subscribe) or the records
notified. Import after ``bench.seed.ensure_sender`` (odoo.addons.spp_dci).
"""

import json
import threading
from collections import Counter
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from bench.receiver import send_ack

from odoo.addons.spp_dci.dci.envelope import verify_envelope


class StrictReceiver:
    def __init__(self, port, our_id, public_keys, max_age=300):
        self.port = port
        self.our_id = our_id
        self.public_keys = public_keys  # {kid: PublicKey} from the registry's JWKS
        self.max_age = max_age
        self.lock = threading.Lock()
        self.message_ids = Counter()  # callback message_id -> deliveries received
        self.correlations = Counter()  # correlation_id -> distinct callbacks
        self.notified = Counter()  # registry record id (identifier value) -> distinct notifies
        self.problems = []
        self.truncated = 0  # requests whose sender vanished before the body was complete
        self.server = None

    @property
    def host_port(self):
        return f"127.0.0.1:{self.port}"

    def url(self, path):
        return f"http://{self.host_port}/soak{path}"

    # --- up and down ----------------------------------------------------------------------

    def start(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if len(raw) < length:
                    # the sender went away mid-request (a kill -9 while it was sending):
                    # no message arrived, and there is no one to answer
                    with receiver.lock:
                        receiver.truncated += 1
                    return
                send_ack(self, receiver.receive(raw) or "unknown")

        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        """Down: the port refuses connections until start()."""
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    # --- what came ------------------------------------------------------------------------

    def receive(self, raw):
        try:
            envelope = json.loads(raw)
            header, message = envelope["header"], envelope["message"]
            message_id = header["message_id"]
        except (ValueError, KeyError, TypeError):
            self._problem(f"not a DCI envelope: {raw[:200]!r}")
            return None
        problem = self._verify(envelope, header)
        correlation_id = message.get("correlation_id")
        with self.lock:
            self.message_ids[message_id] += 1
            if problem:
                self.problems.append(f"{header.get('action')} {message_id}: {problem}")
            elif self.message_ids[message_id] == 1:  # a re-delivery is recognised by its id
                if correlation_id:
                    self.correlations[correlation_id] += 1
                for event in message.get("notify_event") or []:
                    for record_id in _record_ids(event):
                        self.notified[record_id] += 1
        return correlation_id

    def _verify(self, envelope, header):
        try:
            verify_envelope(
                envelope,
                lambda sender, kid: self.public_keys.get(kid) if sender == self.our_id else None,
                expected_sender_id=self.our_id,
            )
        except Exception as exc:  # every signature failure is a finding, whatever its class
            return f"signature refused: {exc}"
        sent = datetime.fromisoformat(header.get("message_ts", "").replace("Z", "+00:00"))
        age = (datetime.now(UTC) - sent).total_seconds()
        if age > self.max_age:
            return f"message_ts is {age:.0f} s old (a strict peer accepts {self.max_age})"
        return None

    def _problem(self, text):
        with self.lock:
            self.problems.append(text)

    def redeliveries(self):
        with self.lock:
            return sum(count - 1 for count in self.message_ids.values())


def _record_ids(event):
    """The identifier values of the records of one notify_event."""
    records = (event.get("data") or {}).get("reg_records") or []
    for record in records if isinstance(records, list) else [records]:
        for identifier in record.get("identifier") or []:
            if isinstance(identifier, dict) and identifier.get("identifier_value"):
                yield identifier["identifier_value"]
