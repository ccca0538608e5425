"""The scenarios: what each one sends, what answer counts as a success.

Request bodies are built (and signed) before the clock starts, right before
each chunk runs (``message_ts`` must stay within the server's clock skew);
each request searches a random seeded UIN. Scenarios that are compared with
each other run interleaved (:meth:`Bench.rounds`).
"""

import json
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from .envelopes import ROOT, get_token, search_envelope
from .load import HttpClient, Result, measure, merge, summarize
from .seed import PREFIX, pg_connect

#: The trivial route: FastAPI's Swagger page of the same app - static HTML, no
#: authentication, no registry data (cheaper than the JWKS, which reads the signing keys).
TRIVIAL_PATH = f"{ROOT}/docs"
SYNC_PATH = f"{ROOT}/registry/sync/search"
ASYNC_PATH = f"{ROOT}/registry/search"

SQL_LOOKUP = (
    "SELECT p.id, p.given_name, p.family_name, p.sex, p.birthdate, p.registration_date, p.city "
    "FROM spp_registry_id r JOIN res_partner p ON p.id = r.partner_id "
    "WHERE r.id_type_id = %s AND r.value = %s AND p.is_registrant AND NOT p.is_group"
)
SQL_IDENTIFIERS = (
    "SELECT r.partner_id, t.code, r.value FROM spp_registry_id r "
    "JOIN spp_id_type t ON t.id = r.id_type_id WHERE r.partner_id = ANY(%s)"
)


class SqlClient:
    """One PostgreSQL connection, the SQL scenario's client."""

    def __init__(self, db):
        self.connection = pg_connect(db)

    def close(self):
        self.connection.close()


@dataclass
class Scenario:
    """A scenario measured in rounds: ``prepare(n)`` returns ``(request, after)`` for a
    chunk of n requests (``after(result)``: untimed work once the chunk is measured)."""

    name: str
    concurrency: int
    count: int
    prepare: Callable
    open_client: Callable


class Bench:
    """Runs the named scenarios against the servers (``--url``, or a scenario's ``base``);
    ``results`` keeps their figures."""

    def __init__(self, args, *, uin_type, registrants, key, our_id, receiver=None):
        self.args = args
        self.base = args.url.rstrip("/")
        self.uin_type = uin_type
        self.registrants = registrants
        self.key = key
        self.our_id = our_id
        self.receiver = receiver
        self.results = []

    # --- helpers ----------------------------------------------------------------------

    def numbers(self, count):
        return [random.randint(1, self.registrants) for _ in range(count)]

    def envelopes(self, count, sender_uri=None):
        return [search_envelope(self.key, self.our_id, n, sender_uri) for n in self.numbers(count)]

    def http(self, base=None):
        return lambda: HttpClient(base or self.base)

    def headers(self):
        token = get_token(self.base)  # a fresh one per chunk: tokens live 15 minutes
        return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def rounds(self, scenarios):
        """Measure ``scenarios`` interleaved: ``--rounds`` rounds, each running a share of
        every scenario's requests, in alternating order (A B C, C B A, ...), so that a
        slow spell of the shared machine weighs on all of them alike. A scenario's
        figures pool its chunks (:func:`load.merge`)."""
        count = max(1, self.args.rounds)
        for scenario in scenarios:
            print(
                f"  {scenario.name}: {self.args.warmup} warm-up + {scenario.count} requests, "
                f"concurrency {scenario.concurrency}, in {count} rounds"
            )
        parts = {scenario.name: [] for scenario in scenarios}
        for number in range(count):
            order = scenarios if number % 2 == 0 else scenarios[::-1]
            for scenario in order:
                share = scenario.count // count + (number < scenario.count % count)
                warmup = self.args.warmup if number == 0 else scenario.concurrency
                request, after = scenario.prepare(warmup + share)
                part = measure(
                    scenario.name,
                    scenario.concurrency,
                    share,
                    request,
                    open_client=scenario.open_client,
                    warmup=warmup,
                )
                if after is not None:
                    after(part)
                parts[scenario.name].append(part)
        merged = [merge(parts[scenario.name]) for scenario in scenarios]
        self.results.extend(merged)
        return merged

    # --- scenarios --------------------------------------------------------------------

    def trivial(self, name, concurrency, base=None):
        def prepare(_count):
            def request(client, _number):
                status, _body = client.request("GET", TRIVIAL_PATH)
                return None if status == 200 else f"GET {TRIVIAL_PATH}: HTTP {status}"

            return request, None

        return Scenario(name, concurrency, self.args.requests, prepare, self.http(base))

    def dci_sync(self, name, concurrency, base=None):
        def prepare(count):
            bodies = self.envelopes(count)
            headers = self.headers()

            def request(client, number):
                status, body = client.request("POST", SYNC_PATH, bodies[number], headers)
                if status != 200:
                    return f"HTTP {status}: {body[:300]!r}"
                item = json.loads(body)["message"]["search_response"][0]
                if item["status"] != "succ" or len(item["data"]["reg_records"]) != 1:
                    return f"unexpected answer: {json.dumps(item)[:300]}"
                return None

            return request, None

        return Scenario(name, concurrency, self.args.requests, prepare, self.http(base))

    def sql(self, name, concurrency):
        def prepare(count):
            values = [f"{PREFIX}{n}" for n in self.numbers(count)]

            def request(client, number):
                with client.connection.cursor() as cr:
                    cr.execute(SQL_LOOKUP, (self.uin_type, values[number]))
                    rows = cr.fetchall()
                    cr.execute(SQL_IDENTIFIERS, ([row[0] for row in rows],))
                    cr.fetchall()
                client.connection.rollback()
                return None if len(rows) == 1 else f"{values[number]}: {len(rows)} rows"

            return request, None

        return Scenario(
            name, concurrency, self.args.requests, prepare, lambda: SqlClient(self.args.db)
        )

    def _async_sender(self, count, warmup):
        """Bodies and a request function for async searches; ACK times land in ``acks``."""
        bodies = self.envelopes(warmup + count, sender_uri=self.receiver.url)
        headers = self.headers()
        acks = {}  # correlation_id -> perf_counter time of the ACK
        lock = threading.Lock()

        def request(client, number):
            status, body = client.request("POST", ASYNC_PATH, bodies[number], headers)
            if status != 200:
                return f"HTTP {status}: {body[:300]!r}"
            message = json.loads(body).get("message") or {}
            if message.get("ack_status") != "ACK" or not message.get("correlation_id"):
                return f"not an ACK: {body[:300]!r}"
            with lock:
                acks[message["correlation_id"]] = time.perf_counter()
            return None

        return request, acks

    def _wait_callbacks(self, result, acks):
        """Wait (bounded) for the callbacks of ``acks``; missing ones are errors."""
        arrived = self.receiver.wait_for(
            acks, timeout=self.args.callback_timeout, stall=self.args.callback_stall
        )
        missing = [cid for cid in acks if cid not in arrived]
        result.errors.extend(
            f"no callback for correlation_id {cid} ({len(missing)} of {len(acks)} missing)"
            for cid in missing
        )
        result.errors.extend(self.receiver.problems)
        self.receiver.problems.clear()
        return arrived

    def dci_async(self, name, concurrency, base=None):
        """The ACK of async searches; after each chunk, its callbacks are awaited (not
        timed), so that their batch jobs do not run during the next chunk."""

        def prepare(count):
            request, acks = self._async_sender(count, 0)

            def after(result):
                started = time.perf_counter()
                arrived = self._wait_callbacks(result, acks)
                print(
                    f"    {name}: {len(arrived)}/{len(acks)} callbacks in "
                    f"{time.perf_counter() - started:.1f} s"
                )

            return request, after

        return Scenario(name, concurrency, self.args.async_requests, prepare, self.http(base))

    def dci_async_callbacks(self, name, concurrency):
        """N async searches sent, then the rate at which their callbacks arrive.

        ``callbacks_per_s``: (received - 1) / (last arrival - first arrival); the
        scenario's p50/p95 are those of ACK -> callback delays, its rps is
        ``callbacks_per_s``. The figures of the sending are in ``details`` (bench.json "callbacks").
        First ``--warmup`` async searches, unmeasured, with their callbacks awaited (the job
        path warmed in the server's threads or workers).
        """
        warmup_errors = []
        if self.args.warmup:
            request, acks = self._async_sender(self.args.warmup, 0)
            warm = measure(
                name, concurrency, self.args.warmup, request, open_client=self.http(), warmup=0
            )
            self._wait_callbacks(warm, acks)
            warmup_errors = [f"warm-up: {error}" for error in warm.errors]
        count = self.args.callbacks
        request, acks = self._async_sender(count, 0)
        cpu = time.process_time()
        send = measure(name, concurrency, count, request, open_client=self.http(), warmup=0)
        print(f"  {name}: sent {len(acks)} async searches in {send.seconds:.1f} s, waiting")
        result = Result(name, concurrency, errors=warmup_errors + send.errors)
        arrived = self._wait_callbacks(result, acks)
        result.client_cpu = time.process_time() - cpu
        result.client_wall = time.perf_counter() - send.started
        times = sorted(arrived.values())
        delays = [arrived[cid] - acks[cid] for cid in arrived]
        span = times[-1] - times[0] if len(times) > 1 else 0.0
        summarize(result, delays, span)
        rate = (len(times) - 1) / span if span > 0 else 0.0
        result.rps = rate
        result.extra = {"callbacks_per_s": round(rate, 1)}
        result.details = {
            "sent": len(acks),
            "received": len(arrived),
            "duplicates": self.receiver.duplicates,
            "send_seconds": round(send.seconds, 2),
            "send_rps": round(send.rps, 1),
            "ack_p50_ms": round(send.p50_ms, 2),
            "first_to_last_s": round(span, 2),
            "first_send_to_last_callback_s": round(times[-1] - send.started, 2) if times else None,
            # every callback over the whole span, from the first send (waits included)
            "end_to_end_per_s": round(len(times) / (times[-1] - send.started), 1) if times else 0,
            "callbacks_per_s": round(rate, 1),
        }
        self.results.append(result)
        print(f"    {len(arrived)}/{len(acks)} callbacks, {rate:.1f}/s first to last")
        return result
