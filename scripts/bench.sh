#!/usr/bin/env bash
# Benchmark the DCI Social Registry (what is measured and how: scripts/bench_search.py).
#  1. serves the database as `make run` does (scripts/run.sh: threaded Odoo, workers = 0,
#     queue_job runner, channels root:2; config .odoo/odoo-<db>.conf) and runs the
#     threaded scenarios (seeding the registrants first);
#  2. serves it again with --workers 2 (prefork, as docker-compose does; config
#     .odoo/bench-<db>-w2.conf) and runs the _w2 scenarios;
#  3. prints the table and targets of the whole run and writes .odoo/bench.json.
# Stops each server it started. Exits non-zero on errors (not on missed targets).
#   DB=spp_dci_bench HTTP_PORT=8070 bash scripts/bench.sh [--million] [--requests N] ...
source "$(dirname "$0")/lib.sh"
bash "$ROOT/scripts/setup.sh"  # a fresh clone has no virtualenv yet
choose_postgres
db=${DB:-spp_dci_bench}
port=${HTTP_PORT:-8070}
# the prefork server's gevent (websocket) process needs a port of its own: any free one
gevent_port=${GEVENT_PORT:-$("$VENV/bin/python" -c \
  'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
conf=$STATE/odoo-$db.conf           # written by run.sh
w2conf=$STATE/bench-$db-w2.conf
run_file=$STATE/bench-run.json
mkdir -p "$STATE"
rm -f "$run_file"

# The suite's code, hashed as run.sh does for its upgrade stamp; recorded per phase, the
# report warns when the two servers ran different code.
suite_code_hash() {
  (cd "$ROOT" && find . -path ./.venv -prune -o -path ./.odoo -prune -o -path ./.git -prune -o \
    -path './spp_*' -type f \( -name '*.py' -o -name '*.xml' -o -name '*.csv' \) -print0 |
    sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
}
bench=("$VENV/bin/python" "$ROOT/scripts/bench_search.py" --db "$db" --url "http://127.0.0.1:$port"
       --config "$conf" --run-file "$run_file" --json "$STATE/bench.json")

for p in "$port" "$gevent_port"; do
  port_busy "$p" && die "port $p is in use: stop that server or choose HTTP_PORT= / GEVENT_PORT="
done
trap stop_server EXIT

log=$STATE/bench-server.log
say "Serving $db as make run does (threaded, port $port; log: $log)"
code=$(suite_code_hash)
serve_background "$log" "$port" env DB="$db" HTTP_PORT="$port" bash "$ROOT/scripts/run.sh"
"${bench[@]}" --phase threaded --code-hash "$code" "$@" ||
  die "the threaded scenarios failed (server log: $log)"
stop_server

# The same configuration in prefork mode: 2 HTTP workers, 1 cron worker, the queue_job
# runner in its own worker (server_wide_modules), the gevent process on its own port.
# Limits: CPU/real time per request well above any benchmark request; memory per worker.
awk -v gevent_port="$gevent_port" '
  /^\[options\]/ { print; options = 1
                   print "workers = 2\nmax_cron_threads = 1\ngevent_port = " gevent_port
                   print "limit_time_cpu = 300\nlimit_time_real = 600\nlimit_time_real_cron = 600"
                   print "limit_memory_soft = 2147483648\nlimit_memory_hard = 2684354560"
                   print "limit_request = 65536"; next }
  /^\[/ { options = 0 }
  options && /^(workers|max_cron_threads|gevent_port|limit_[a-z_]+) *=/ { next }
  { print }' "$conf" >"$w2conf"
log=$STATE/bench-server-w2.log
say "Serving $db with --workers 2 (prefork, port $port; config $w2conf; log: $log)"
code=$(suite_code_hash)
serve_background "$log" "$port" "$VENV/bin/odoo" -c "$w2conf"
"${bench[@]}" --phase w2 --report --code-hash "$code" "$@" ||
  die "errors in the benchmark (see above; server logs: $STATE/bench-server*.log)"
