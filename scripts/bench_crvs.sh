#!/usr/bin/env bash
# CRVS import at national scale (what is measured and how: scripts/bench_crvs.py).
# Creates or upgrades the database as `make run` does, serves it the same way (threaded
# Odoo, queue_job runner; the demo CRVS at /dci/crvs of the same server, over HTTP), imports
# 50,000 births and 5,000 deaths in the background and the births again, and writes
# .odoo/bench-crvs.json. Stops the server it started. Missed targets do not fail it.
#   DB=spp_dci_bench_crvs HTTP_PORT=8091 bash scripts/bench_crvs.sh [--births N] [--page-size N]
source "$(dirname "$0")/lib.sh"
choose_postgres
db=${DB:-spp_dci_bench_crvs}
port=${HTTP_PORT:-8091}
conf=$STATE/odoo-$db.conf           # written by run.sh
port_busy "$port" && die "port $port is in use: stop that server or choose HTTP_PORT="
mkdir -p "$STATE"
say "Creating or upgrading the database $db"
DB=$db HTTP_PORT=$port INIT_ONLY=1 bash "$ROOT/scripts/run.sh"
bench=("$VENV/bin/python" "$ROOT/scripts/bench_crvs.py" --db "$db" --config "$conf"
       --json "$STATE/bench-crvs.json")
"${bench[@]}" --setup "$@" || die "could not prepare $db"
trap stop_server EXIT
log=$STATE/bench-crvs-server.log
say "Serving $db as make run does (threaded, port $port; log: $log)"
serve_background "$log" "$port" env DB="$db" HTTP_PORT="$port" bash "$ROOT/scripts/run.sh"
"${bench[@]}" --server-pid "$SERVER_PID" "$@" || die "the benchmark failed (server log: $log)"
