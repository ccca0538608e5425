"""Benchmark the signed sync idtype-value search of the DCI Social Registry.

Seeds N registrants with a UIN each (default 100,000; ``--million`` for
1,000,000; directly in SQL, idempotent), registers a benchmark sender, then
measures three things with the same concurrency (default 8 threads):

1. **DCI**: ``POST /dci/social/registry/sync/search``, an ``idtype-value`` query
   for a random seeded UIN, with a bearer token and a DCI-signed envelope
   (every request a new ``message_id``), answered with a signed reply;
2. **SQL**: the same lookup straight in PostgreSQL (identifier -> registrant
   and its identifiers), one connection per thread;
3. **Trivial route**: ``GET /dci/social/docs`` of the same FastAPI app (no
   auth, no database work): the cost of Odoo + FastAPI dispatch alone.

and prints p50/p95 latency, requests per second and the ratios. Envelopes are
signed before the clock starts, so client-side signing is not measured.

Run it through ``scripts/bench.sh`` (``make bench``), which serves a database
the way ``make run`` does; or by hand against a running server::

    .venv/bin/python scripts/bench_search.py --db spp_dci_bench --url http://127.0.0.1:8070
"""

import argparse
import json
import os
import random
import statistics
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import httpx
import psycopg2

PREFIX = "BENCH-"
CLIENT_ID = "dci-bench"
SECRET = "bench-secret-" + "x" * 32
ROOT = "/dci/social"


def pg_connect(db):
    return psycopg2.connect(dbname=db)


# --- seeding --------------------------------------------------------------------


def seed_registrants(db, count):
    """Insert the missing BENCH registrants (one UIN each) in SQL; returns the UIN type id."""
    with pg_connect(db) as conn, conn.cursor() as cr:
        cr.execute("SELECT id FROM spp_id_type WHERE code = 'UIN'")
        uin = cr.fetchone()[0]
        cr.execute(
            "SELECT count(*) FROM spp_registry_id WHERE id_type_id = %s AND value LIKE %s",
            (uin, PREFIX + "%"),
        )
        have = cr.fetchone()[0]
        if have >= count:
            print(f"seed: {have} benchmark registrants already present")
            return uin
        started = time.monotonic()
        step = 100_000
        for low in range(have + 1, count + 1, step):
            high = min(count, low + step - 1)
            cr.execute(
                """
                WITH new AS (
                    INSERT INTO res_partner (name, complete_name, given_name, family_name, sex,
                        birthdate,
                        registration_date, is_registrant, is_group, active, type, is_company, city,
                        create_uid, write_uid, create_date, write_date)
                    SELECT 'Bench ' || n, 'Bench ' || n, 'Given' || n, 'Bench',
                           (ARRAY['male', 'female'])[1 + n %% 2], DATE '1950-01-01' + (n %% 25000),
                           DATE '2020-01-01' + (n %% 1500), true, false, true, 'contact', false,
                           'Benchtown',
                           1, 1, now() AT TIME ZONE 'utc', now() AT TIME ZONE 'utc'
                      FROM generate_series(%s, %s) AS n
                    RETURNING id, given_name
                )
                INSERT INTO spp_registry_id (partner_id, id_type_id, value, create_uid, write_uid,
                                             create_date, write_date)
                SELECT id, %s, %s || substr(given_name, 6), 1, 1, now() AT TIME ZONE 'utc',
                       now() AT TIME ZONE 'utc'
                  FROM new
                """,
                (low, high, uin, PREFIX),
            )
            conn.commit()
            print(f"seed: {high}/{count} registrants ({time.monotonic() - started:.0f} s)")
        cr.execute(
            "UPDATE res_partner SET commercial_partner_id = id WHERE commercial_partner_id IS NULL"
        )
        cr.execute("ANALYZE res_partner")
        cr.execute("ANALYZE spp_registry_id")
        conn.commit()
    return uin


def ensure_sender(args):
    """Register the benchmark sender (key, secret, no rate limit) through the Odoo ORM."""
    import odoo
    from odoo import SUPERUSER_ID, api
    from odoo.modules.registry import Registry

    # odoo.addons.spp_dci is importable once the configuration (addons path) is read
    odoo.tools.config.parse_config(["-c", args.config, "-d", args.db], setup_logging=False)
    from odoo.addons.spp_dci.dci.keys import SigningKey

    key = SigningKey.generate()
    with Registry(args.db).cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        Sender = env["spp.dci.sender"].with_context(active_test=False)
        sender = Sender.search([("client_id", "=", CLIENT_ID)])
        values = {
            "name": "Benchmark client",
            "client_id": CLIENT_ID,
            "active": True,
            "scopes": "registry.search",
            "allowed_registry_types": "social",
            "rate_limit": 0,
            "key_ids": [
                (5, 0, 0),
                (
                    0,
                    0,
                    {
                        "kid": key.kid,
                        "algorithm": key.algorithm,
                        "public_key": key.public_key.to_pem().decode(),
                    },
                ),
            ],
        }
        if sender:
            sender.write(values)
        else:
            sender = Sender.create(values)
        sender._dci_set_secret(SECRET)
        our_id = env["spp.dci.signing.key"]._dci_sender_id()
        cr.commit()
    return key, our_id


# --- measuring -------------------------------------------------------------------


def measure(name, calls, concurrency):
    """Run ``calls`` (callables returning nothing) on ``concurrency`` threads."""
    latencies = []
    lock = threading.Lock()

    def run(call):
        start = time.perf_counter()
        call()
        elapsed = time.perf_counter() - start
        with lock:
            latencies.append(elapsed)

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        for result in pool.map(run, calls):
            del result
    wall = time.perf_counter() - started
    latencies.sort()
    return {
        "name": name,
        "count": len(latencies),
        "p50": statistics.median(latencies) * 1000,
        "p95": latencies[int(len(latencies) * 0.95) - 1] * 1000,
        "rps": len(latencies) / wall,
    }


def thread_local(factory):
    local = threading.local()

    def get():
        if not hasattr(local, "value"):
            local.value = factory()
        return local.value

    return get


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", default=os.environ.get("DB", "spp_dci_bench"))
    parser.add_argument("--url", default="http://127.0.0.1:8070")
    parser.add_argument(
        "--config", default=os.path.join(os.path.dirname(__file__), "..", ".odoo", "odoo.conf")
    )
    parser.add_argument(
        "--count", type=int, default=100_000, help="registrants to seed (default 100,000)"
    )
    parser.add_argument("--million", action="store_true", help="seed 1,000,000 registrants")
    parser.add_argument("--requests", type=int, default=2000, help="measured requests per scenario")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    count = 1_000_000 if args.million else args.count

    uin = seed_registrants(args.db, count)
    key, our_id = ensure_sender(args)

    from odoo.addons.spp_dci.dci.envelope import build_envelope
    from odoo.addons.spp_dci.dci.schemas.common import format_timestamp

    base = args.url.rstrip("/")
    token = httpx.post(
        f"{base}{ROOT}/oauth2/client/token",
        data={"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": SECRET},
        timeout=30,
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def envelope(number):
        now = format_timestamp(datetime.now(UTC))
        header = {
            "version": "1.0.0",
            "message_id": str(uuid.uuid4()),
            "message_ts": now,
            "action": "search",
            "sender_id": CLIENT_ID,
            "receiver_id": our_id,
            "total_count": 1,
        }
        message = {
            "transaction_id": str(uuid.uuid4()),
            "search_request": [
                {
                    "reference_id": "1",
                    "timestamp": now,
                    "search_criteria": {
                        "query_type": "idtype-value",
                        "query": {"type": "UIN", "value": f"{PREFIX}{number}"},
                    },
                }
            ],
        }
        return json.dumps(build_envelope(header, message, key, CLIENT_ID)).encode()

    warmup = 50
    total = args.requests + warmup
    numbers = [random.randint(1, count) for _ in range(total)]
    bodies = [envelope(n) for n in numbers]
    client = thread_local(lambda: httpx.Client(timeout=60))
    failures = []

    def dci_call(body):
        def call():
            response = client().post(
                f"{base}{ROOT}/registry/sync/search", content=body, headers=headers
            )
            if response.status_code != 200:
                failures.append(response.text[:300])
                return
            item = response.json()["message"]["search_response"][0]
            if item["status"] != "succ" or len(item["data"]["reg_records"]) != 1:
                failures.append(json.dumps(item)[:300])

        return call

    def trivial_call():
        response = client().get(f"{base}{ROOT}/docs")
        if response.status_code != 200:
            failures.append(f"docs {response.status_code}")

    connection = thread_local(lambda: pg_connect(args.db))

    def sql_call(number):
        def call():
            with connection().cursor() as cr:
                cr.execute(
                    "SELECT p.id, p.given_name, p.family_name, p.sex, p.birthdate, "
                    "p.registration_date, p.city "
                    "FROM spp_registry_id r JOIN res_partner p ON p.id = r.partner_id "
                    "WHERE r.id_type_id = %s AND r.value = %s "
                    "AND p.is_registrant AND NOT p.is_group",
                    (uin, f"{PREFIX}{number}"),
                )
                rows = cr.fetchall()
                cr.execute(
                    "SELECT r.partner_id, t.code, r.value FROM spp_registry_id r "
                    "JOIN spp_id_type t ON t.id = r.id_type_id WHERE r.partner_id = ANY(%s)",
                    ([row[0] for row in rows],),
                )
                cr.fetchall()
            connection().rollback()

        return call

    # warm up every path (app pool, caches, connections), then measure
    measure("warmup", [dci_call(b) for b in bodies[:warmup]], args.concurrency)
    measure("warmup", [trivial_call] * warmup, args.concurrency)
    measure("warmup", [sql_call(n) for n in numbers[:warmup]], args.concurrency)
    if failures:
        sys.exit(f"benchmark requests failed: {failures[:3]}")
    results = [
        measure("DCI signed sync search", [dci_call(b) for b in bodies[warmup:]], args.concurrency),
        measure("SQL lookup", [sql_call(n) for n in numbers[warmup:]], args.concurrency),
        measure(
            f"Trivial route (GET {ROOT}/docs)", [trivial_call] * args.requests, args.concurrency
        ),
    ]
    if failures:
        sys.exit(f"{len(failures)} benchmark requests failed: {failures[:3]}")
    dci, sql, trivial = results
    print()
    print(
        f"{count:,} registrants, {args.requests} requests per scenario, "
        f"concurrency {args.concurrency}"
    )
    print(f"{'scenario':44} {'p50 ms':>9} {'p95 ms':>9} {'req/s':>9}")
    for row in results:
        print(f"{row['name']:44} {row['p50']:9.2f} {row['p95']:9.2f} {row['rps']:9.1f}")
    print()
    print(
        f"DCI / SQL:     p50 x{dci['p50'] / sql['p50']:.1f}, "
        f"throughput x{sql['rps'] / dci['rps']:.1f} lower"
    )
    print(
        f"DCI / trivial: p50 x{dci['p50'] / trivial['p50']:.1f}, "
        f"throughput x{trivial['rps'] / dci['rps']:.1f} lower"
    )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(
                {"registrants": count, "concurrency": args.concurrency, "results": results},
                handle,
                indent=2,
            )


if __name__ == "__main__":
    main()
