#!/usr/bin/env bash
# Benchmark the signed sync search of the DCI Social Registry (see scripts/bench_search.py).
# Serves a database exactly as `make run` does (scripts/run.sh: threaded Odoo, queue_job
# runner) on its own database and port, seeds it, measures, then stops the server.
#   DB=spp_dci_bench HTTP_PORT=8070 bash scripts/bench.sh [--million] [--requests N] ...
source "$(dirname "$0")/lib.sh"
choose_postgres
db=${DB:-spp_dci_bench}
port=${HTTP_PORT:-8070}
log=$STATE/bench-server.log
mkdir -p "$STATE"

say "Starting Odoo for the benchmark (database $db, port $port; log: $log)"
DB=$db HTTP_PORT=$port bash "$ROOT/scripts/run.sh" >"$log" 2>&1 &
server=$!
stop() {
  # run.sh execs odoo, so $server is the Odoo process itself
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
}
trap stop EXIT

for _ in $(seq 1 900); do
  if curl -fs -o /dev/null "http://127.0.0.1:$port/web/login"; then break; fi
  kill -0 "$server" 2>/dev/null || { tail -30 "$log"; die "the server stopped (see $log)"; }
  sleep 1
done
curl -fs -o /dev/null "http://127.0.0.1:$port/web/login" || die "the server did not answer on port $port"

"$VENV/bin/python" "$ROOT/scripts/bench_search.py" --db "$db" --url "http://127.0.0.1:$port" \
  --config "$STATE/odoo.conf" "$@"
