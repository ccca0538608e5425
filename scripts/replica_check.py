"""Send N signed DCI sync searches and show which PostgreSQL server served them.

Run by ``scripts/replica.sh`` (``make replica``) once Odoo serves ``--url`` with
``db_host`` on the primary and ``db_replica_host`` on a streaming standby that logs
every statement (``--replica-log``). Plays the demo MIS ``demo-mis`` with the
functions of ``scripts/demo_search.py`` (its own key, its JWKS on 127.0.0.1:8765):
one token, one warm-up search, then N ``idtype-value`` searches by UIN of the demo
registrants, every answer's signature verified.

Reports, per server, the scans of ``spp_registry_id`` / ``res_partner`` counted
by ``pg_stat_user_tables`` (per server: a standby counts its own reads), the
statements Odoo ran on the standby (from its log), and on the primary the new
``spp_dci_transaction`` rows. Exit 0 when the primary got exactly N transaction
rows and the standby served the registry lookups (at least N statements and N
scans on ``spp_registry_id`` there, fewer than N scans on the primary); 1 when
that does not hold; 2 when the searches themselves failed.
"""

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path

import httpx
import psycopg2

sys.path.insert(0, str(Path(__file__).resolve().parent))
import demo_search as mis

MIS_ID = "demo-mis"  # the demo sender of spp_dci_demo
TABLES = ("spp_registry_id", "res_partner", "spp_dci_transaction")
#: pg_stat_* of a backend reach the shared statistics within PGSTAT_IDLE_INTERVAL (10 s)
STATS_FLUSH_SECONDS = 11
ENTRY = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? \S+ \[\d+\] (?P<app>\S*)@(?P<db>\S*) "
)
WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|MERGE|TRUNCATE|CREATE|ALTER|DROP)\b", re.I)


def connect(args, port):
    conn = psycopg2.connect(
        host=args.host, port=port, user=args.user, dbname=args.db, application_name="replica_check"
    )
    conn.autocommit = True  # every query its own transaction: fresh statistics snapshot
    return conn


def one(conn, sql, params=None):
    with conn.cursor() as cr:
        cr.execute(sql, params)
        return cr.fetchone()


def scans(conn):
    """This server's counters: scans and inserts per table, commits and rows of the database."""
    with conn.cursor() as cr:
        cr.execute(
            "SELECT relname, seq_scan, coalesce(idx_scan, 0), n_tup_ins FROM pg_stat_user_tables "
            "WHERE relname = ANY(%s)",
            (list(TABLES),),
        )
        stats = {
            name: {"seq": seq, "idx": idx, "ins": ins} for name, seq, idx, ins in cr.fetchall()
        }
        cr.execute(
            "SELECT xact_commit, tup_returned + tup_fetched FROM pg_stat_database "
            "WHERE datname = current_database()"
        )
        commits, rows = cr.fetchone()
        stats["database"] = {"commits": commits, "rows": rows}
        return stats


def delta(after, before):
    return {
        table: {key: after[table][key] - before[table][key] for key in after[table]}
        for table in after
    }


def replica_statements(path, offset, db):
    """Statements of Odoo's connections to ``db`` in the standby log after ``offset``."""
    with open(path, encoding="utf-8", errors="replace") as handle:
        handle.seek(offset)
        text = handle.read()
    entries, current = [], None
    for line in text.splitlines():
        match = ENTRY.match(line)
        if match:
            current = {"app": match["app"], "db": match["db"], "text": line[match.end() :]}
            entries.append(current)
        elif current is not None:
            current["text"] += "\n" + line
    odoo = [e for e in entries if e["db"] == db and e["app"].startswith("odoo")]
    statements = [
        e["text"].split("statement: ", 1)[1]
        for e in odoo
        if e["text"].startswith("LOG:  statement: ")
    ]
    return {
        "statements": len(statements),
        "spp_registry_id": [s for s in statements if "spp_registry_id" in s],
        "res_partner": [s for s in statements if "res_partner" in s],
        "writes": [s for s in statements if WRITE.match(s)],
        "errors": [e["text"] for e in odoo if e["text"].startswith(("ERROR:", "FATAL:"))],
    }


def wait_replayed(primary, replica, timeout=30):
    """Wait until the standby replayed everything the primary wrote so far."""
    (lsn,) = one(primary, "SELECT pg_current_wal_lsn()::text")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        (done,) = one(replica, "SELECT pg_wal_lsn_diff(pg_last_wal_replay_lsn(), %s) >= 0", (lsn,))
        if done:
            return True
        time.sleep(0.5)
    return False


class Mis:
    """The demo MIS of demo_search.py: key, JWKS, token, signed searches."""

    def __init__(self, args):
        self.root = f"{args.url.rstrip('/')}/dci/social"
        self.key = mis.load_or_create_key(args.key)
        self.jwk = mis.public_jwk(self.key)
        self.jwks_server = mis.serve_jwks({"keys": [self.jwk]}, args.jwks_port)
        self.http = httpx.Client(timeout=60)
        response = self.http.post(
            f"{self.root}/oauth2/client/token",
            data={
                "grant_type": "client_credentials",
                "client_id": MIS_ID,
                "client_secret": args.client_secret,
            },
        )
        if response.status_code != 200:
            raise SystemExit(f"token refused (HTTP {response.status_code}): {response.text[:300]}")
        self.token = response.json()["access_token"]
        self.registry_jwks = self.http.get(f"{self.root}/.well-known/jwks.json").json()

    def search(self, uin):
        """One signed idtype-value search; returns (transaction_id, problem or None)."""
        criteria = {
            "query_type": "idtype-value",
            "query": {"type": "UIN", "value": uin},
            "pagination": {"page_size": 10, "page_number": 1},
        }
        header, message = mis.envelope(criteria, MIS_ID)
        body = {
            "signature": mis.sign(header, message, self.key, MIS_ID, self.jwk["kid"]),
            "header": header,
            "message": message,
        }
        response = self.http.post(
            f"{self.root}/registry/sync/search",
            json=body,
            headers={"Authorization": f"Bearer {self.token}"},
        )
        txn = message["transaction_id"]
        if response.status_code != 200:
            return txn, f"HTTP {response.status_code}: {response.text[:200]}"
        answer = response.json()
        if answer.get("header", {}).get("status") != "succ":
            return txn, f"status {answer.get('header', {}).get('status')}: {response.text[:200]}"
        item = answer["message"]["search_response"][0]
        records = (item.get("data") or {}).get("reg_records") or []
        if item.get("status") != "succ" or not records:
            return txn, f"{uin}: item {item.get('status')}, {len(records)} record(s)"
        try:
            mis.verify(answer, self.registry_jwks)
        except SystemExit as exc:
            return txn, f"signature: {exc}"
        return txn, None

    def close(self):
        self.http.close()
        self.jwks_server.shutdown()
        self.jwks_server.server_close()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("--host", default=os.environ.get("PGHOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PGPORT", 5432)))
    parser.add_argument("--user", default=os.environ.get("PGUSER"))
    parser.add_argument("--replica-port", type=int, required=True)
    parser.add_argument("--replica-log", required=True)
    parser.add_argument("--odoo-log", help="only named in the report")
    parser.add_argument("-n", type=int, default=50, help="searches to send (default 50)")
    parser.add_argument("--key", type=Path, default=mis.ROOT / ".odoo" / "demo-mis-ed25519.pem")
    parser.add_argument("--jwks-port", type=int, default=8765)
    parser.add_argument(
        "--client-secret",
        default=os.environ.get("DCI_DEMO_CLIENT_SECRET", mis.DEMO_CLIENT_SECRET),
    )
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    n = args.n

    primary = connect(args, args.port)
    replica = connect(args, args.replica_port)
    in_recovery, read_only = one(
        replica, "SELECT pg_is_in_recovery(), current_setting('transaction_read_only')"
    )
    receiver = one(
        replica, "SELECT status, sender_host, sender_port FROM pg_stat_wal_receiver"
    ) or ("none", None, None)
    with primary.cursor() as cr:
        cr.execute(
            "SELECT r.value FROM spp_registry_id r JOIN spp_id_type t ON t.id = r.id_type_id "
            "JOIN res_partner p ON p.id = r.partner_id "
            "WHERE t.code = 'UIN' AND p.active AND p.is_registrant IS TRUE "
            "AND p.is_group IS NOT TRUE "
            "ORDER BY r.value"
        )
        uins = [row[0] for row in cr.fetchall()]
    if not uins:
        raise SystemExit(f"no registrant with a UIN in {args.db}: is spp_dci_demo installed?")

    client = Mis(args)
    try:
        txn, problem = client.search(uins[0])  # warm-up: JWKS fetch and caches, not counted
        if problem:
            print(f"warm-up search failed: {problem}", file=sys.stderr)
            return 2
        time.sleep(STATS_FLUSH_SECONDS)
        before = {"primary": scans(primary), "replica": scans(replica)}
        (txn_before,) = one(primary, "SELECT count(*) FROM spp_dci_transaction")
        log_offset = os.path.getsize(args.replica_log)
        started = time.monotonic()
        sent, problems = [], []
        for number in range(n):
            txn, problem = client.search(uins[number % len(uins)])
            sent.append(txn)
            if problem:
                problems.append(problem)
        elapsed = time.monotonic() - started
    finally:
        client.close()
    time.sleep(STATS_FLUSH_SECONDS)
    after = {"primary": scans(primary), "replica": scans(replica)}
    (txn_after,) = one(primary, "SELECT count(*) FROM spp_dci_transaction")
    (ours_primary,) = one(
        primary, "SELECT count(*) FROM spp_dci_transaction WHERE transaction_id = ANY(%s)", (sent,)
    )
    replayed = wait_replayed(primary, replica)
    (ours_replica,) = one(
        replica, "SELECT count(*) FROM spp_dci_transaction WHERE transaction_id = ANY(%s)", (sent,)
    )
    log = replica_statements(args.replica_log, log_offset, args.db)
    grew = {"primary": delta(after["primary"], before["primary"])}
    grew["replica"] = delta(after["replica"], before["replica"])

    def scan_sum(server, table):
        return grew[server][table]["seq"] + grew[server][table]["idx"]

    ok_answers = n - len(problems)
    registry_primary = scan_sum("primary", "spp_registry_id")
    registry_replica = scan_sum("replica", "spp_registry_id")
    replica_served = (
        len(log["spp_registry_id"]) >= n and registry_replica >= n and registry_primary < n
    )
    txn_ok = ours_primary == n and txn_after - txn_before == n

    def row(label, primary_value, replica_value):
        print(f"  {label:42} {primary_value!s:>10} {replica_value!s:>14}")

    print()
    print(f"Replica check: {n} signed sync searches (idtype-value by UIN, sender {MIS_ID})")
    print(
        f"  Odoo {args.url}, database {args.db}: db_host {args.host}:{args.port} (primary), "
        f"db_replica_host 127.0.0.1:{args.replica_port} (standby)"
    )
    print(
        f"  standby: pg_is_in_recovery() = {in_recovery}, transaction_read_only = {read_only}, "
        f"WAL receiver {receiver[0]} from {receiver[1]}:{receiver[2]}"
    )
    print(
        f"  answers: {ok_answers}/{n} HTTP 200, status succ, records found, signature verified "
        f"({elapsed:.1f} s, {n / elapsed:.1f} req/s)"
    )
    for problem in problems[:3]:
        print(f"    failed: {problem}")
    print()
    row("during the searches (each server's own)", "primary", "standby")
    row(
        "spp_dci_transaction rows of the searches",
        f"+{ours_primary}",
        f"{ours_replica} replayed" if replayed else f"{ours_replica} (lagging)",
    )
    row(
        "  rows inserted (n_tup_ins)",
        f"+{grew['primary']['spp_dci_transaction']['ins']}",
        f"+{grew['replica']['spp_dci_transaction']['ins']}",
    )
    print("  scans, seq + idx (pg_stat_user_tables):")
    for table in TABLES:
        for server in ("primary", "replica"):
            grew[server][table]["scans"] = scan_sum(server, table)
        row(
            f"  {table}",
            f"+{grew['primary'][table]['scans']}",
            f"+{grew['replica'][table]['scans']}",
        )
    print(f"  database {args.db} (pg_stat_database):")
    row(
        "  transactions committed",
        f"+{grew['primary']['database']['commits']}",
        f"+{grew['replica']['database']['commits']}",
    )
    row(
        "  rows read (tup_returned + tup_fetched)",
        f"+{grew['primary']['database']['rows']}",
        f"+{grew['replica']['database']['rows']}",
    )
    print()
    print(
        f"  standby log ({args.replica_log}), Odoo's statements on {args.db}: "
        f"{log['statements']} in all"
    )
    print(
        f"    reading spp_registry_id: {len(log['spp_registry_id'])}, "
        f"reading res_partner: {len(log['res_partner'])}, "
        f"writes: {len(log['writes'])}, errors: {len(log['errors'])}"
    )
    if log["spp_registry_id"]:
        sample = " ".join(log["spp_registry_id"][0].split())
        at = max(sample.find('FROM "spp_registry_id"'), 0)
        head = f"{sample[:40]} ... " if at > 40 else sample[:at]
        print(f"    e.g. {head}{sample[at : at + 170]} ...")
    for error in log["errors"][:3]:
        print(f"    error: {' '.join(error.split())[:200]}")
    if args.odoo_log:
        print(f"  Odoo log: {args.odoo_log}")
    print()
    if problems:
        verdict, code = f"FAIL: {len(problems)} of {n} searches failed", 2
    elif not txn_ok:
        verdict = (
            f"FAIL: {ours_primary} transaction rows of these searches on the primary "
            f"({txn_after - txn_before} new in all), expected {n}"
        )
        code = 1
    elif not replica_served:
        verdict = (
            f"FAIL: the primary served the registry lookups (spp_registry_id: "
            f"{registry_primary} scans on the primary, {registry_replica} scans and "
            f"{len(log['spp_registry_id'])} statements on the standby, for {n} searches)"
        )
        code = 1
    else:
        verdict = (
            f"PASS: {n} transaction rows on the primary; the standby served the registry "
            f"lookups ({len(log['spp_registry_id'])} statements, {registry_replica} scans "
            f"of spp_registry_id; the primary {registry_primary})"
        )
        code = 0
    print(f"  {verdict}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(
                {
                    "searches": n,
                    "answers_ok": ok_answers,
                    "transactions_primary": ours_primary,
                    "transactions_replica": ours_replica,
                    "scans": grew,
                    "replica_log": {k: v if isinstance(v, int) else len(v) for k, v in log.items()},
                    "verdict": verdict,
                },
                handle,
                indent=2,
            )
    return code


if __name__ == "__main__":
    sys.exit(main())
