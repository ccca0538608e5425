"""Benchmark the DCI Social Registry: signed sync search, async search and its callbacks.

``make bench`` (scripts/bench.sh) serves the database ``spp_dci_bench`` twice at
the same time: on ``--url`` exactly as ``make run`` serves it (``workers = 0``,
threaded, queue_job runner with ``channels = root:2``), and on ``--w2-url`` with
``--workers 2`` (prefork, as docker-compose serves it). The server not being
measured is idle. This script seeds N registrants with a UIN each (100,000;
``--million`` for 1,000,000; plain SQL, idempotent), loads the tables a lookup
reads into memory (``pg_prewarm``: the figures are those of a warm registry,
not of this machine's disk), then measures

- ``trivial_route_c1`` / ``_c8`` / ``_w2``: ``GET /dci/social/docs``, FastAPI's
  Swagger page of the same app - static HTML, no authentication, no registry
  data (cheaper than ``/.well-known/jwks.json``, which reads the signing keys):
  the cost of Odoo + FastAPI dispatch alone;
- ``dci_sync_search_c1`` / ``_c8`` / ``_w2``: ``POST /dci/social/registry/sync/search``,
  an ``idtype-value`` query for a random seeded UIN with a bearer token and a
  DCI-signed envelope (a new ``message_id`` each), answered with a signed
  reply; a success is HTTP 200 with exactly one record;
- ``sql_lookup_c1`` / ``_c8``: the same lookup straight in PostgreSQL
  (identifier -> registrant, then its identifiers), one connection per client;
- ``dci_async_search_c1``: ``POST /dci/social/registry/search`` with
  ``header.sender_uri`` pointing at a local receiver; the figures are those
  of the ACK (HTTP 200, ``ack_status: ACK``); then every callback must arrive;
- ``trivial_route_c1_w2`` / ``dci_async_search_c1_w2``: the trivial route
  and the ACK at concurrency 1 on the prefork server, whose batch jobs run in
  the threaded server's process meanwhile (its job runner is the database's);
- ``dci_async_callbacks``: after ``--warmup`` unmeasured ones (their callbacks
  awaited), ``--callbacks`` async searches sent (concurrency 8), then the rate
  at which the queue_job runner delivers their on-search callbacks to the
  receiver: ``callbacks_per_s`` = (received - 1) / (last - first arrival).
  Its p50/p95 are ACK -> callback delays;
- ``dci_async_callbacks_w2``: the same on the prefork server, once the threaded
  one is stopped (``--callbacks-w2``; queue_job elects one job runner per
  database, the first server's until then): its jobs run in the prefork
  workers.

``_c1``/``_c8``: 1 or 8 (``--concurrency``) clients on the threaded server;
``_w2``: 8 on the prefork one.

How figures are taken (scripts/bench/load.py): the scenarios a target compares
run interleaved (the ``_c1`` ones together, then the ``_c8`` and ``_w2`` ones):
``--rounds`` rounds (5), each measuring a share of every scenario's requests,
in alternating order, so that a slow spell of the shared machine weighs on
all of them alike; a scenario's figures pool its rounds. A scenario's first
round runs ``--warmup`` requests (50) on its clients first, unmeasured (later
rounds one per client); then the clock runs over a bounded number of
requests (``--requests``, ``--async-requests``; ``--callbacks``) on C threads,
each with its own ``http.client`` connection (or PostgreSQL connection).
Latency is per request, from sending to having read the whole answer; req/s
is requests / wall time of the measured parts. Envelopes are signed and the
access token fetched before the clock starts. After each round of async ACKs
their callbacks are awaited (untimed), so that their jobs do not run during
the next scenario. The load generator shares the machine with the servers;
it is kept light (plain http.client, no JSON work beyond checking the answer).

The callback receiver (scripts/bench/receiver.py) listens on 127.0.0.1 on a free
port and answers the DCI ACK; the benchmark sender ``dci-bench`` gets that
``host:port`` as its only callback host and ``allow_private_callbacks`` (the
server refuses loopback and plain-http callbacks otherwise).

Output: a table (scenario, concurrency, p50 ms, p95 ms, req/s), the targets with
their ratios and PASS/FAIL, and ``.odoo/bench.json``. Missed targets do not fail
the run; errors do (non-200 answers, wrong answers, missing callbacks): the
script exits 1 and prints the number of errors per scenario.

By hand, against servers already running (``make run`` style on 8070; add
``--w2-url`` for a prefork one)::

    .venv/bin/python scripts/bench_search.py --db spp_dci_bench --url http://127.0.0.1:8070 \\
        --config .odoo/odoo-spp_dci_bench.conf
"""

import argparse
import contextlib
import os
import sys
from datetime import UTC, datetime

from bench import report
from bench.receiver import CallbackReceiver
from bench.seed import ensure_sender, forget_previous_runs, seed_registrants, warm_cache

STATE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".odoo")


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", default=os.environ.get("DB", "spp_dci_bench"))
    parser.add_argument("--url", default="http://127.0.0.1:8070")
    parser.add_argument(
        "--config",
        help="the server's Odoo configuration (default: .odoo/odoo-<db>.conf, from run.sh)",
    )
    parser.add_argument(
        "--w2-url", help="the same database served with --workers 2 (the _w2 scenarios)"
    )
    parser.add_argument("--count", type=int, default=100_000, help="registrants (100,000)")
    parser.add_argument("--million", action="store_true", help="seed 1,000,000 registrants")
    parser.add_argument(
        "--requests", type=int, default=1000, help="measured requests per sync/SQL/trivial scenario"
    )
    parser.add_argument("--async-requests", type=int, default=300, help="of dci_async_search_c1")
    parser.add_argument("--callbacks", type=int, default=500, help="of dci_async_callbacks")
    parser.add_argument("--warmup", type=int, default=50, help="unmeasured requests first")
    parser.add_argument("--concurrency", type=int, default=8, help="of the _c8 and _w2 scenarios")
    parser.add_argument(
        "--callback-timeout", type=float, default=180, help="s to wait for callbacks at most"
    )
    parser.add_argument(
        "--callback-stall", type=float, default=30, help="s without a callback that end the wait"
    )
    parser.add_argument(
        "--callbacks-w2",
        action="store_true",
        help="only dci_async_callbacks_w2, against --url (the prefork server, now the job "
        "runner), added to the run in --json",
    )
    parser.add_argument(
        "--no-report", action="store_true", help="write --json only (more scenarios follow)"
    )
    parser.add_argument(
        "--receiver-delay-ms",
        type=float,
        default=0,
        help="ms the callback receiver waits before each ACK, as a distant one would (0)",
    )
    parser.add_argument(
        "--rounds", type=int, default=5, help="interleaved rounds of the compared scenarios"
    )
    parser.add_argument("--code-hash", help="the suite's code hash, recorded in bench.json")
    parser.add_argument("--json", default=os.path.join(STATE, "bench.json"))
    args = parser.parse_args()
    args.config = args.config or os.path.join(STATE, f"odoo-{args.db}.conf")
    if not os.path.exists(args.config):
        parser.error(f"no Odoo configuration {args.config} (serve the database with run.sh)")
    return args


def scenarios_class():
    # imported once ensure_sender has read the Odoo configuration (addons path)
    from bench.scenarios import Bench  # noqa: PLC0415

    return Bench


@contextlib.contextmanager
def prepared(args, registrants_wanted, *, warm=True):
    """The seeded and warmed database, a callback receiver and the benchmark sender:
    a :class:`bench.scenarios.Bench` of them (the receiver stops on exit)."""
    uin, registrants = seed_registrants(args.db, registrants_wanted)
    if registrants > registrants_wanted:
        print(f"note: the database holds {registrants:,} benchmark registrants; all count")
    forget_previous_runs(args.db)
    if warm:
        warm_cache(args.db)
    receiver = CallbackReceiver(delay=args.receiver_delay_ms / 1000).start()
    try:
        key, our_id = ensure_sender(args.config, args.db, callback_host=receiver.host_port)
        yield scenarios_class()(
            args, uin_type=uin, registrants=registrants, key=key, our_id=our_id, receiver=receiver
        )
    finally:
        receiver.stop()


def run(args, registrants_wanted):
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    with prepared(args, registrants_wanted) as bench:
        c = args.concurrency
        at_1 = [
            bench.trivial("trivial_route_c1", 1),
            bench.dci_sync("dci_sync_search_c1", 1),
            bench.sql("sql_lookup_c1", 1),
            bench.dci_async("dci_async_search_c1", 1),
        ]
        if args.w2_url:  # the ACK where the batch jobs run in other processes
            at_1 += [
                bench.trivial("trivial_route_c1_w2", 1, args.w2_url),
                bench.dci_async("dci_async_search_c1_w2", 1, args.w2_url),
            ]
        bench.rounds(at_1)
        at_c = [
            bench.trivial(f"trivial_route_c{c}", c),
            bench.dci_sync(f"dci_sync_search_c{c}", c),
            bench.sql(f"sql_lookup_c{c}", c),
        ]
        if args.w2_url:
            at_c += [
                bench.trivial("trivial_route_w2", c, args.w2_url),
                bench.dci_sync("dci_sync_search_w2", c, args.w2_url),
            ]
        bench.rounds(at_c)
        # last: its queue jobs would otherwise run during the other scenarios
        bench.dci_async_callbacks("dci_async_callbacks", c)
    doc = {
        "registrants": bench.registrants,
        "started_at": started_at,
        "settings": {
            "requests": args.requests,
            "async_requests": args.async_requests,
            "callbacks": args.callbacks,
            "warmup": args.warmup,
            "rounds": args.rounds,
        },
    }
    return doc, bench.results


def callbacks_w2(args, registrants_wanted):
    """``dci_async_callbacks_w2``: the callbacks scenario on the prefork server (``--url``),
    whose job runner is the database's runner now; added to the run in ``--json``."""
    if not os.path.exists(args.json):
        sys.exit(f"--callbacks-w2 adds to the run in {args.json}: run the other scenarios first")
    doc = report.load(args.json)
    with prepared(args, registrants_wanted, warm=False) as bench:
        bench.dci_async_callbacks("dci_async_callbacks_w2", args.concurrency)
    return doc, bench.results


def main():
    args = parse_args()
    registrants = 1_000_000 if args.million else args.count
    servers = f"{args.url}" + (f" and {args.w2_url} (--workers 2)" if args.w2_url else "")
    print(f"bench: {servers} (database {args.db})")
    doc, results = (callbacks_w2 if args.callbacks_w2 else run)(args, registrants)
    if args.code_hash:
        doc["code"] = args.code_hash
    report.add_results(doc, results)
    doc["targets"] = report.targets(doc)
    report.save(doc, args.json)
    if not args.no_report:
        report.print_report(doc)
        print(f"\nwritten: {os.path.normpath(args.json)}")
    failed = report.error_lines(doc)
    if failed:
        print("\nERRORS (the figures of these scenarios are not valid):", file=sys.stderr)
        for line in failed:
            print(f"  {line}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
