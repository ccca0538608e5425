"""CRVS import at national scale: what `make bench-crvs` measures (scripts/bench_crvs.sh).

``--setup`` (before the server starts): points the demo loops at the bench port and lets
the demo CRVS endpoint serve pages of ``--page-size`` records (its *Maximum Page Size*).

Then, with the database served over HTTP on this machine (threaded Odoo + queue_job
runner, as ``make run``):

1. seeds ``--births`` (50,000) births of one year in the demo CRVS, in plain SQL
   (``scripts/soak/crvs.py``), and imports them in the background as the wizard does
   (``_crvs_import_start``: one committed queue job per page, identifier matching on);
2. gives ``--deaths`` (5,000) of them a death date and a DRN, and imports the deaths;
3. imports the births again: every record unchanged.

Rates are records / wall-clock seconds from queuing the import to its run being done.
Peak memory is the highest RSS sampled (every 0.5 s) of the Odoo server process and its
children during the imports. Writes ``.odoo/bench-crvs.json``.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

from bench.seed import pg_connect
from soak import crvs

from odoo import SUPERUSER_ID, api

TARGETS = {"created_per_s": 1000, "unchanged_per_s": 3000}


def rss_mb(pid):
    """RSS of ``pid`` and its direct children, in MB (0 when it is gone)."""
    pids = [pid]
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    if int(stat.read().rsplit(")", 1)[1].split()[1]) == pid:
                        pids.append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    total = 0
    for one in pids:
        try:
            with open(f"/proc/{one}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def setup(args):
    with crvs._env(args) as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        env["spp.dci.demo"]._dci_demo_connect_loops()  # this run's port (config http_port)
        endpoint = env.ref("spp_dci_demo.fastapi_endpoint_dci_crvs_demo")
        endpoint.dci_max_page_size = max(endpoint.dci_max_page_size, args.page_size)
        # an interrupted earlier run would go on when the server starts: its jobs then stop
        env["spp.dci.crvs.import"].search([("state", "=", "running")]).write(
            {"state": "failed", "error": "interrupted benchmark run"}
        )
        cr.commit()
    print(f"setup: demo loops on this port, CRVS pages of up to {args.page_size} records")


def measure(args, label, run_id):
    """Wait for the run to end, sampling memory; its figures."""
    started = time.monotonic()
    peak = last_print = 0.0
    while True:
        peak = max(peak, rss_mb(args.server_pid))
        with pg_connect(args.db) as conn, conn.cursor() as cr:
            cr.execute(
                "SELECT state, coalesce(record_count, 0), coalesce(created_count, 0), "
                "coalesce(updated_count, 0), coalesce(unchanged_count, 0), "
                "coalesce(skipped_count, 0), coalesce(page_count, 0), total_count, error "
                "FROM spp_dci_crvs_import "
                "WHERE id = %s",
                (run_id,),
            )
            state, records, created, updated, unchanged, skipped, pages, total, error = (
                cr.fetchone()
            )
        elapsed = time.monotonic() - started
        if state != "running":
            break
        if elapsed - last_print >= 10:
            last_print = elapsed
            print(f"  {label}: {records:,}/{total or '?'} records, {pages} pages, {elapsed:.0f}s")
        if elapsed > args.timeout:
            sys.exit(f"{label}: not done after {args.timeout}s ({records} records)")
        time.sleep(0.5)
    if state != "done":
        sys.exit(f"{label}: the import ended {state}: {error}")
    result = {
        "records": records,
        "seconds": round(elapsed, 1),
        "per_s": round(records / elapsed, 1),
        "created": created,
        "updated": updated,
        "unchanged": unchanged,
        "skipped": skipped,
        "pages": pages,
        "peak_rss_mb": round(peak, 1),
    }
    print(f"  {label}: {json.dumps(result)}")
    return result


def run(args):
    year = args.year
    batch = crvs.seed_births(args, args.births, year=year)
    print(f"seed: {args.births:,} births of {year} in the demo CRVS (batch {batch})")
    births = measure(args, "births", crvs.queue_import(args, batch, event="birth", year=year))
    crvs.add_deaths(args, batch, args.deaths, year + 1)
    deaths = measure(args, "deaths", crvs.queue_import(args, batch, event="death", year=year + 1))
    again = measure(args, "births again", crvs.queue_import(args, batch, event="birth", year=year))
    figures = {
        "records": births["records"],
        "created_per_s": round(births["created"] / births["seconds"], 1),
        "unchanged_per_s": round(again["unchanged"] / again["seconds"], 1),
        "peak_rss_mb": max(births["peak_rss_mb"], deaths["peak_rss_mb"], again["peak_rss_mb"]),
        "page_size": args.page_size,
        "deaths_per_s": deaths["per_s"],
        "phases": {"births": births, "deaths": deaths, "births_again": again},
    }
    Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")
    print(f"\n{'figure':<18}{'value':>10}{'target':>10}")
    for name in ("records", "created_per_s", "unchanged_per_s", "peak_rss_mb"):
        target = TARGETS.get(name)
        verdict = "" if target is None else (" PASS" if figures[name] >= target else " FAIL")
        print(f"{name:<18}{figures[name]:>10}{target or '':>10}{verdict}")
    print(f"written: {args.json}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--config", required=True)
    parser.add_argument("--setup", action="store_true", help="only prepare the database")
    parser.add_argument("--server-pid", type=int)
    parser.add_argument("--births", type=int, default=50_000)
    parser.add_argument("--deaths", type=int, default=5_000)
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--year", type=int, default=1934, help="the births' year (deaths: +1)")
    parser.add_argument("--timeout", type=int, default=3600, help="per import, in seconds")
    parser.add_argument("--json", default=".odoo/bench-crvs.json")
    args = parser.parse_args()
    args.crvs_page_size = args.page_size  # what soak/crvs.py reads
    if args.setup:
        setup(args)
    else:
        run(args)


if __name__ == "__main__":
    main()
