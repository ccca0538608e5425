"""The callback receiver of the async scenarios: a small threaded HTTP server.

It listens on 127.0.0.1 on a free port (HTTP/1.1, connections kept open), takes
every POST as a DCI callback
(``on-search``), notes the arrival time (``time.perf_counter``) per
``message.correlation_id`` and answers HTTP 200 with the DCI ACK
``{"message": {"ack_status": "ACK", "timestamp": ..., "correlation_id": ...}}``.
The benchmark sender lists its ``host:port`` in ``callback_hosts``.
"""

import json
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PATH = "/bench/dci/registry/on-search"


def send_ack(handler, correlation_id):
    """Answer the callback being handled with HTTP 200 and the DCI ACK."""
    body = json.dumps(
        {
            "message": {
                "ack_status": "ACK",
                "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
                "correlation_id": correlation_id,
            }
        }
    ).encode()
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


class CallbackReceiver:
    """``delay``: seconds each callback waits before its ACK (a receiver that far away)."""

    def __init__(self, delay=0.0):
        self.delay = delay
        self.arrivals = {}  # correlation_id -> perf_counter time of the first callback
        self.duplicates = 0
        self.problems = []  # callbacks that are not a successful on-search
        self.changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            # keep-alive, as HTTP/1.1 callback receivers (nginx, uvicorn ...) answer: the
            # server's HTTP client keeps one connection per callback host open
            protocol_version = "HTTP/1.1"
            # headers and body are two writes: without TCP_NODELAY the body would wait
            # for the client's delayed ACK on a kept-alive connection (40 ms each)
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    data = json.loads(raw)
                    correlation_id = data["message"]["correlation_id"]
                except (ValueError, KeyError, TypeError):
                    data, correlation_id = None, None
                receiver.record(correlation_id, data, raw)
                if receiver.delay:
                    time.sleep(receiver.delay)
                send_ack(self, correlation_id or "")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def host_port(self):
        return f"127.0.0.1:{self.server.server_address[1]}"

    @property
    def url(self):
        return f"http://{self.host_port}{PATH}"

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def record(self, correlation_id, data, raw):
        now = time.perf_counter()
        problem = None
        if correlation_id is None:
            problem = f"not a DCI callback: {raw[:200]!r}"
        else:
            try:
                item = data["message"]["search_response"][0]
                if item["status"] != "succ" or len(item["data"]["reg_records"]) != 1:
                    problem = f"callback {correlation_id}: {json.dumps(item)[:200]}"
            except (KeyError, IndexError, TypeError):
                problem = f"callback {correlation_id} has no search result: {raw[:200]!r}"
        with self.changed:
            if problem:
                self.problems.append(problem)
            if correlation_id in self.arrivals:
                self.duplicates += 1
            elif correlation_id is not None:
                self.arrivals[correlation_id] = now
            self.changed.notify_all()

    def wait_for(self, correlation_ids, timeout, stall=30.0):
        """Wait until every id has a callback, ``timeout`` s passed, or nothing came for
        ``stall`` s; return ``{correlation_id: arrival time}`` of those that arrived."""
        wanted = set(correlation_ids)
        deadline = time.perf_counter() + timeout
        with self.changed:
            seen = len(wanted & self.arrivals.keys())
            last_progress = time.perf_counter()
            while seen < len(wanted):
                now = time.perf_counter()
                if now >= deadline or now - last_progress >= stall:
                    break
                self.changed.wait(min(1.0, deadline - now))
                count = len(wanted & self.arrivals.keys())
                if count > seen:
                    seen, last_progress = count, time.perf_counter()
            return {cid: self.arrivals[cid] for cid in wanted if cid in self.arrivals}
