"""The load and fault run (make soak): what a bad day in production does to the registry.

Serves the database as `make run` does (threaded Odoo, queue_job runner) and runs:
  1. soak: ``--seconds`` (600) at concurrency ``--concurrency`` (8) of signed sync searches,
     and ``--async-rate`` (5) async searches a second with callbacks; 0 errors, every
     callback once, memory flat
     (median RSS of the last minute within ``--max-memory-growth`` % of the second's);
  2. peer_down: a subscription, then the receiver is down for ``--down-seconds`` (300)
     while async searches and registry changes wait for it; after it returns every
     callback and notification arrives, verifies, and none twice;
  3. kill_async: ``--async-kill`` (200) async searches, kill -9 of Odoo while their
     callbacks go out, restart: every transaction done and delivered once;
  4. kill_crvs: ``--births`` (3000) births in the demo CRVS, a background import, kill -9
     while it runs, restart: the import resumes (one committed page job per page) and ends
     with every birth imported once, none twice; only whole pages visible at the kill.
The receiver is a strict peer (scripts/soak/receiver.py): body signature by the registry's
published keys, message_ts at most 300 s old. Writes ``.odoo/soak.json``; exits 1 on findings.
"""

import argparse
import json
import os
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench.seed import ensure_sender, forget_previous_runs, seed_registrants

STATE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ".odoo")
PHASES = ("soak", "peer_down", "kill_async", "kill_crvs")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="spp_dci_soak")
    parser.add_argument("--port", type=int, default=8073)
    parser.add_argument("--receiver-port", type=int, default=8074)
    parser.add_argument("--registrants", type=int, default=10_000)
    parser.add_argument("--seconds", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--async-rate", type=float, default=5.0, help="async searches per s")
    parser.add_argument("--down-seconds", type=int, default=300)
    parser.add_argument("--async-kill", type=int, default=200)
    parser.add_argument("--births", type=int, default=3000)
    parser.add_argument("--crvs-page-size", type=int, default=100)
    parser.add_argument("--crvs-kill-after", type=float, default=5.0, help="s after the job starts")
    parser.add_argument("--recovery-timeout", type=int, default=900)
    parser.add_argument("--max-memory-growth", type=float, default=15.0)
    parser.add_argument("--phases", default=",".join(PHASES))
    parser.add_argument("--json", default=os.path.join(STATE, "soak.json"))
    args = parser.parse_args()
    args.config = os.path.join(STATE, f"odoo-{args.db}.conf")
    args.phases = [p for p in args.phases.split(",") if p]
    unknown = set(args.phases) - set(PHASES)
    if unknown:
        parser.error(f"unknown phases {sorted(unknown)}; choose from {', '.join(PHASES)}")
    return args


def main():
    args = parse_args()
    _uin, registrants = seed_registrants(args.db, args.registrants)
    forget_previous_runs(args.db)
    key, our_id = ensure_sender(
        args.config,
        args.db,
        f"127.0.0.1:{args.receiver_port}",
        scopes="registry.search registry.subscribe",
    )
    # imported once ensure_sender has read the Odoo configuration (addons path)
    from soak.phases import FaultRun  # noqa: PLC0415
    from soak.receiver import StrictReceiver  # noqa: PLC0415
    from soak.server import Server  # noqa: PLC0415

    from odoo.addons.spp_dci.dci.keys import PublicKey  # noqa: PLC0415

    server = Server(args.db, args.port, os.path.join(STATE, "soak-server.log"))
    server.start()
    try:
        with urllib.request.urlopen(f"{server.url}/dci/social/.well-known/jwks.json") as answer:
            keys = {k["kid"]: PublicKey.from_jwk(k) for k in json.load(answer)["keys"]}
        receiver = StrictReceiver(args.receiver_port, our_id, keys).start()
        run = FaultRun(args, server, receiver, key, our_id, registrants)
        report = {"registrants": registrants, "phases": {}}
        for phase in args.phases:
            started = time.monotonic()
            if phase == "soak":
                result = run.soak(args.seconds, args.concurrency, args.async_rate)
            elif phase == "peer_down":
                result = run.peer_down(args.down_seconds)
            elif phase == "kill_async":
                result = run.kill_async(args.async_kill)
            else:
                result = run.kill_crvs(args.births)
            result["wall_s"] = round(time.monotonic() - started)
            report["phases"][phase] = result
            with open(args.json, "w") as out:
                json.dump(report, out, indent=2)
    finally:
        server.stop()
    print_table(report)
    print(f"figures: {args.json}")
    return 0 if all(p["ok"] for p in report["phases"].values()) else 1


def print_table(report):
    print(f"\n{'phase':<12} {'ok':<4} figures")
    for name, result in report["phases"].items():
        shown = {k: v for k, v in result.items() if k not in ("ok", "findings", "rss_samples")}
        print(f"{name:<12} {'yes' if result['ok'] else 'NO':<4} {json.dumps(shown)}")
        for finding in result["findings"]:
            print(f"{'':<17}finding: {finding}")


if __name__ == "__main__":
    sys.exit(main())
