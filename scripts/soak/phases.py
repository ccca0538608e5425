"""The parts of the fault run: soak, peer outage, kill -9 (async batch and CRVS import).

Each returns a dict of figures with ``ok`` and ``findings`` (what went wrong, in
words). The soak's sync searches run closed-loop (each worker sends the next when
answered), its async searches at a steady rate: batch jobs answer them and send their
callbacks, which this machine does at some tens per second besides the sync load, so a
closed-loop share of async would grow a backlog without bound (docs/server.md).
Requests are built and signed just before they are sent (``message_ts``
must be fresh); the sender is the benchmark's ``dci-bench`` (scripts/bench/seed.py).
"""

import json
import random
import statistics
import threading
import time
import uuid
from datetime import UTC, datetime

from bench.envelopes import ROOT, get_token, search_envelope
from bench.load import HttpClient, percentile
from bench.seed import CLIENT_ID, pg_connect

from odoo.addons.spp_dci.dci.envelope import build_envelope
from odoo.addons.spp_dci.dci.schemas.common import format_timestamp

from . import crvs

SYNC_PATH = f"{ROOT}/registry/sync/search"
ASYNC_PATH = f"{ROOT}/registry/search"
SUBSCRIBE_PATH = f"{ROOT}/registry/subscribe"


class FaultRun:
    def __init__(self, args, server, receiver, key, our_id, registrants):
        self.args = args
        self.server = server
        self.receiver = receiver
        self.key = key
        self.our_id = our_id
        self.registrants = registrants
        self._token = (None, 0.0)

    # --- requests --------------------------------------------------------------------------

    def headers(self):
        token, got = self._token
        if time.monotonic() - got > 300:  # tokens live 15 minutes; phases are longer
            token = get_token(self.server.url)
            self._token = (token, time.monotonic())
        return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def search(self, client, asynchronous):
        """One signed search; returns ``(error or None, correlation_id or None)``."""
        number = random.randint(1, self.registrants)
        sender_uri = self.receiver.url("/registry/on-search") if asynchronous else None
        body = search_envelope(self.key, self.our_id, number, sender_uri)
        path = ASYNC_PATH if asynchronous else SYNC_PATH
        status, answer = client.request("POST", path, body, self.headers())
        if status != 200:
            return f"{path}: HTTP {status} {answer[:200]!r}", None
        message = json.loads(answer).get("message") or {}
        if asynchronous:
            if message.get("ack_status") != "ACK":
                return f"{path}: not an ACK {answer[:200]!r}", None
            return None, message["correlation_id"]
        item = (message.get("search_response") or [{}])[0]
        if item.get("status") != "succ" or len(item["data"]["reg_records"]) != 1:
            return f"{path}: {json.dumps(item)[:200]}", None
        return None, None

    def send_async(self, count):
        client = HttpClient(self.server.url)
        correlations, errors = [], []
        for _ in range(count):
            error, correlation_id = self.search(client, asynchronous=True)
            if error:
                errors.append(error)
            else:
                correlations.append(correlation_id)
        client.close()
        return correlations, errors

    def wait_callbacks(self, correlations, timeout):
        """Until every callback arrived and every transaction's delivery is recorded
        done/sent (after a kill, a callback can arrive before the restarted server has
        recorded it: queue_job requeues the killed job), at most ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(self.receiver.correlations[c] for c in correlations) and set(
                self.delivery_states(correlations)
            ) == {"done/sent"}:
                return True
            time.sleep(1)
        return False

    def delivery_states(self, correlations):
        """``{state: count}`` of the transactions' callbacks, read from the database."""
        with pg_connect(self.args.db) as conn, conn.cursor() as cr:
            cr.execute(
                "SELECT state || '/' || delivery_state, count(*) FROM spp_dci_transaction "
                "WHERE correlation_id = ANY(%s) GROUP BY 1",
                (list(correlations),),
            )
            return dict(cr.fetchall())

    def callback_findings(self, correlations):
        findings = list(self.receiver.problems)
        findings += _once_findings(
            self.receiver.correlations, correlations, "callbacks", "transactions got two"
        )
        states = self.delivery_states(correlations)
        wrong = {s: n for s, n in states.items() if s != "done/sent"}
        if wrong:
            findings.append(f"transaction states other than done/sent: {wrong}")
        return findings, states

    # --- 1. soak ---------------------------------------------------------------------------

    def soak(self, seconds, concurrency, async_rate):
        print(f"soak: {seconds} s at concurrency {concurrency}, {async_rate} async searches/s")
        latencies = {"sync": [], "async": []}
        errors, correlations = [], []
        lock = threading.Lock()
        deadline = time.monotonic() + seconds
        next_async = [time.monotonic()]  # the async searches keep a steady rate (see the module)
        self.headers()

        def take_async():
            with lock:
                if time.monotonic() < next_async[0]:
                    return False
                next_async[0] += 1 / async_rate
                return True

        def worker():
            client = HttpClient(self.server.url)
            while time.monotonic() < deadline:
                asynchronous = take_async()
                started = time.perf_counter()
                try:
                    error, correlation_id = self.search(client, asynchronous)
                except Exception as exc:  # a dropped connection is an error of the run
                    error, correlation_id = f"{type(exc).__name__}: {exc}", None
                elapsed = time.perf_counter() - started
                with lock:
                    latencies["async" if asynchronous else "sync"].append(elapsed)
                    if error:
                        errors.append(error)
                    if correlation_id:
                        correlations.append(correlation_id)
            client.close()

        threads = [threading.Thread(target=worker) for _ in range(concurrency)]
        for thread in threads:
            thread.start()
        memory = []  # (seconds since start, MB)
        started = time.monotonic()
        while any(t.is_alive() for t in threads):
            memory.append((round(time.monotonic() - started), round(self.server.rss_mb(), 1)))
            time.sleep(5)
        arrived = self.wait_callbacks(correlations, timeout=self.args.recovery_timeout)
        findings, states = self.callback_findings(correlations)
        if errors:
            findings.append(f"{len(errors)} request errors, e.g. {errors[:3]}")
        # memory: the second minute (warmed up) against the last minute
        early = [mb for t, mb in memory if 60 <= t < 120] or [mb for _t, mb in memory[:12]]
        late = [mb for t, mb in memory if t >= seconds - 60] or [mb for _t, mb in memory[-12:]]
        growth = (statistics.median(late) / statistics.median(early) - 1) * 100
        if growth > self.args.max_memory_growth:
            findings.append(f"memory grew {growth:.1f} % (limit {self.args.max_memory_growth} %)")
        total = sum(len(v) for v in latencies.values())
        result = {
            "seconds": seconds,
            "concurrency": concurrency,
            "async_per_s": async_rate,
            "requests": total,
            "rps": round(total / seconds, 1),
            "errors": len(errors),
            "sync_p50_ms": _ms(latencies["sync"], 0.5),
            "sync_p95_ms": _ms(latencies["sync"], 0.95),
            "async_ack_p50_ms": _ms(latencies["async"], 0.5),
            "async_sent": len(correlations),
            "callbacks_all_arrived": arrived,
            "redeliveries": self.receiver.redeliveries(),
            "transaction_states": states,
            "rss_mb_second_minute": round(statistics.median(early), 1),
            "rss_mb_last_minute": round(statistics.median(late), 1),
            "rss_growth_pct": round(growth, 1),
            "rss_samples": memory,
        }
        return _done(result, findings)

    # --- 2. the peer is down ---------------------------------------------------------------

    def peer_down(self, down_seconds, searches=50, changes=20):
        print(f"peer down: subscribe, then {down_seconds} s without the receiver")
        tag = uuid.uuid4().hex[:8]
        surname = f"Soak{tag}"
        subscription = self.subscribe(surname)
        if subscription:
            return _done({}, [subscription])
        self.receiver.stop()
        down_at = time.monotonic()
        correlations, errors = self.send_async(searches)
        identifiers = crvs.create_registrants(self.args, surname, changes)  # notified changes
        time.sleep(max(0.0, down_seconds - (time.monotonic() - down_at)))
        self.receiver.start()
        print(f"  receiver back after {time.monotonic() - down_at:.0f} s; waiting for the retries")
        arrived = self.wait_callbacks(correlations, timeout=self.args.recovery_timeout)
        deadline = time.monotonic() + (self.args.recovery_timeout if arrived else 60)
        while time.monotonic() < deadline and not all(
            self.receiver.notified[i] for i in identifiers
        ):
            time.sleep(1)
        recovered = round(time.monotonic() - down_at - down_seconds)
        findings, states = self.callback_findings(correlations)
        findings += [f"search refused while the peer was down: {e}" for e in errors[:3]]
        findings += _once_findings(
            self.receiver.notified, identifiers, "notified changes", "changes notified"
        )
        result = {
            "down_seconds": down_seconds,
            "callbacks": len(correlations),
            "notified_changes": len(identifiers),
            "all_delivered_s_after_return": recovered,
            "redeliveries": self.receiver.redeliveries(),
            "transaction_states": states,
        }
        return _done(result, findings)

    def subscribe(self, surname):
        """Subscribe to new registrants named ``surname``; returns a finding or None."""
        header = {
            "version": "1.0.0",
            "message_id": str(uuid.uuid4()),
            "message_ts": _now(),
            "action": "subscribe",
            "sender_id": CLIENT_ID,
            "receiver_id": self.our_id,
            "total_count": 1,
            "sender_uri": self.receiver.url("/registry/on-subscribe"),
        }
        item = {
            "reference_id": "1",
            "timestamp": _now(),
            "subscribe_criteria": {
                "reg_event_type": "REGISTER",
                "notify_record_type": "Person",
                "filter_type": "expression",
                "filter": {
                    "type": "ns:org:QueryType:expression",
                    "value": {"expression": {"query": {"surname": {"$eq": surname}}}},
                },
            },
        }
        message = {"transaction_id": str(uuid.uuid4()), "subscribe_request": [item]}
        body = json.dumps(build_envelope(header, message, self.key, CLIENT_ID)).encode()
        client = HttpClient(self.server.url)
        status, answer = client.request("POST", SUBSCRIBE_PATH, body, self.headers())
        client.close()
        if status != 200:
            return f"subscribe: HTTP {status} {answer[:300]!r}"
        correlation_id = json.loads(answer)["message"]["correlation_id"]
        if not self.wait_callbacks([correlation_id], timeout=120):
            return "subscribe: no on-subscribe callback"
        return None

    # --- 3. kill -9 in the middle of an async batch -----------------------------------------

    def kill_async(self, count=200):
        print(f"kill: {count} async searches, kill -9 while their callbacks go out")
        correlations, errors = self.send_async(count)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if sum(1 for c in correlations if self.receiver.correlations[c]) >= count // 10:
                break
            time.sleep(0.2)
        before = sum(1 for c in correlations if self.receiver.correlations[c])
        self.server.kill()
        print(f"  killed with {before}/{len(correlations)} callbacks delivered; restarting")
        self.server.start()
        arrived = self.wait_callbacks(correlations, timeout=self.args.recovery_timeout)
        findings, states = self.callback_findings(correlations)
        findings += [f"search refused: {e}" for e in errors[:3]]
        result = {
            "sent": len(correlations),
            "delivered_before_kill": before,
            "all_delivered_after_restart": arrived,
            "redeliveries": self.receiver.redeliveries(),
            "cut_off_by_the_kill": self.receiver.truncated,
            "transaction_states": states,
        }
        return _done(result, findings)

    # --- 4. kill -9 in the middle of a CRVS import ------------------------------------------

    def kill_crvs(self, births):
        print(f"kill: a CRVS import of {births} births, kill -9 while it runs")
        batch = crvs.seed_births(self.args, births)
        run_id = crvs.queue_import(self.args, batch)
        # the first page committed: the import is under way
        crvs.wait_run(self.args.db, run_id, lambda state, pages: pages >= 1, timeout=300)
        time.sleep(self.args.crvs_kill_after)
        during = crvs.imported(self.args.db, batch)
        running = crvs.wait_run(self.args.db, run_id, lambda state, pages: True, timeout=0)
        self.server.kill()
        print(f"  killed while importing ({during['registrants']} registrants visible); restarting")
        self.server.start()
        # queue_job runs the interrupted page job again: the import resumes where it was
        state = crvs.wait_run(
            self.args.db,
            run_id,
            lambda state, pages: state in ("done", "failed"),
            timeout=self.args.recovery_timeout,
        )
        after = crvs.imported(self.args.db, batch)
        findings = []
        if running != "running":
            findings.append(f"the import was {running} at the kill: raise --births")
        # each page is committed whole: whole pages only, never part of one
        page_size = self.args.crvs_page_size
        if during["registrants"] % page_size and during["registrants"] != births:
            findings.append(
                f"part of a page was visible: {during['registrants']} of {births} "
                f"(pages of {page_size})"
            )
        if state != "done":
            findings.append(f"the import ended {state}")
        if after["registrants"] != births:
            findings.append(f"{after['registrants']} of {births} births imported")
        if after["duplicates"]:
            findings.append(f"{after['duplicates']} birth registration numbers held twice")
        if after["runs"] != {"done": 1}:
            findings.append(f"import runs: {after['runs']} (one done run expected)")
        result = {
            "births": births,
            "visible_at_kill": during["registrants"],
            "run_state": state,
            "imported": after["registrants"],
            "duplicates": after["duplicates"],
            "runs": after["runs"],
        }
        return _done(result, findings)


def _once_findings(received, expected, what, twice_what):
    """What arrived not at all, or twice: ``received`` counts distinct arrivals per key."""
    findings = []
    missing = [key for key in expected if not received[key]]
    twice = [key for key in expected if received[key] > 1]
    if missing:
        findings.append(f"{len(missing)} of {len(expected)} {what} never arrived")
    if twice:
        findings.append(f"{len(twice)} {twice_what} twice")
    return findings


def _ms(values, fraction):
    return round(percentile(sorted(values), fraction) * 1000, 1) if values else None


def _now():
    return format_timestamp(datetime.now(UTC))


def _done(result, findings):
    result["ok"] = not findings
    result["findings"] = findings
    for finding in findings:
        print(f"  FINDING: {finding}")
    return result
