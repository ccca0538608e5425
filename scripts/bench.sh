#!/usr/bin/env bash
# Benchmark the DCI Social Registry (what is measured and how: scripts/bench_search.py).
#  1. serves the database as `make run` does (scripts/run.sh: threaded Odoo, workers = 0,
#     queue_job runner, channels root:2; config .odoo/odoo-<db>.conf) on HTTP_PORT;
#  2. serves it at the same time with --workers 2 (prefork, as docker-compose does; config
#     .odoo/bench-<db>-w2.conf) on another port; its job runner stays idle (queue_job
#     elects one runner per database: the first server's);
#  3. runs the scenarios against both (interleaved, the idle server waits), writes
#     .odoo/bench.json;
#  4. stops the threaded server and measures the callbacks once more with the prefork
#     server's job runner, then prints the table and targets of the whole run.
# Stops both servers. Exits non-zero on errors (not on missed targets).
#   DB=spp_dci_bench HTTP_PORT=8070 bash scripts/bench.sh [--million] [--requests N] ...
source "$(dirname "$0")/lib.sh"
bash "$ROOT/scripts/setup.sh"  # a fresh clone has no virtualenv yet
choose_postgres
db=${DB:-spp_dci_bench}
port=${HTTP_PORT:-8070}
free_port() {
  "$VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# the prefork server needs a port, and its gevent (websocket) process one of its own
w2_port=${W2_PORT:-$(free_port)}
gevent_port=${GEVENT_PORT:-$(free_port)}
conf=$STATE/odoo-$db.conf           # written by run.sh
w2conf=$STATE/bench-$db-w2.conf
mkdir -p "$STATE"

# The suite's code, hashed as run.sh does for its upgrade stamp (recorded in bench.json).
suite_code_hash() {
  (cd "$ROOT" && find . -path ./.venv -prune -o -path ./.odoo -prune -o -path ./.git -prune -o \
    -path './spp_*' -type f \( -name '*.py' -o -name '*.xml' -o -name '*.csv' \) -print0 |
    sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
}

for p in "$port" "$w2_port" "$gevent_port"; do
  port_busy "$p" && die "port $p is in use: stop that server or choose HTTP_PORT= / W2_PORT= / GEVENT_PORT="
done
threaded_pid= w2_pid=
stop_servers() {
  SERVER_PID=$w2_pid stop_server
  SERVER_PID=$threaded_pid stop_server
}
trap stop_servers EXIT

log=$STATE/bench-server.log
say "Serving $db as make run does (threaded, port $port; log: $log)"
serve_background "$log" "$port" env DB="$db" HTTP_PORT="$port" bash "$ROOT/scripts/run.sh"
threaded_pid=$SERVER_PID

# The same configuration in prefork mode: 2 HTTP workers, 1 cron worker, the queue_job
# runner in its own worker (server_wide_modules), the gevent process on its own port.
# Limits: CPU/real time per request well above any benchmark request; memory per worker.
awk -v http_port="$w2_port" -v gevent_port="$gevent_port" '
  /^\[options\]/ { print; options = 1
                   print "workers = 2\nmax_cron_threads = 1\nhttp_port = " http_port
                   print "gevent_port = " gevent_port
                   print "limit_time_cpu = 300\nlimit_time_real = 600\nlimit_time_real_cron = 600"
                   print "limit_memory_soft = 2147483648\nlimit_memory_hard = 2684354560"
                   print "limit_request = 65536"; next }
  /^\[/ { options = 0 }
  options && /^(workers|max_cron_threads|http_port|gevent_port|limit_[a-z_]+) *=/ { next }
  { print }' "$conf" >"$w2conf"
log=$STATE/bench-server-w2.log
say "Serving $db with --workers 2 as well (prefork, port $w2_port; config $w2conf; log: $log)"
serve_background "$log" "$w2_port" "$VENV/bin/odoo" -c "$w2conf"
w2_pid=$SERVER_PID

code=$(suite_code_hash)
"$VENV/bin/python" "$ROOT/scripts/bench_search.py" --db "$db" --url "http://127.0.0.1:$port" \
  --w2-url "http://127.0.0.1:$w2_port" --config "$conf" --json "$STATE/bench.json" \
  --code-hash "$code" --no-report "$@" ||
  die "errors in the benchmark (see above; server logs: $STATE/bench-server*.log)"

# The callbacks once more, their jobs run by the prefork server: stop the threaded one,
# whose job runner held queue_job's runner lock; the prefork one's takes it (it retries
# every 5 s).
say "Stopping the threaded server; the prefork server's job runner takes over"
SERVER_PID=$threaded_pid stop_server
threaded_pid=
runner_lock="SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted
  AND ((classid::bigint << 32) | objid::bigint) = 2293787760715711918"  # queue_job's id
for _ in $(seq 1 60); do
  [[ "$(psql -d "$db" -Atc "$runner_lock")" == 1 ]] && break
  sleep 1
done
"$VENV/bin/python" "$ROOT/scripts/bench_search.py" --db "$db" --url "http://127.0.0.1:$w2_port" \
  --config "$conf" --json "$STATE/bench.json" --code-hash "$code" --callbacks-w2 "$@" ||
  die "errors in the benchmark (see above; server logs: $STATE/bench-server*.log)"
