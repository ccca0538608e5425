#!/usr/bin/env bash
# make screenshots: the README's screenshots (docs/screenshots/*.png) of the case
# worker's screens, from the demo served as `make run` serves it. The database is made
# afresh each time (the demo population is drawn from a fixed seed, so the screens show
# the same people on every run), served on HTTP_PORT with the queue_job runner, then
# scripts/screenshots.py plays the case worker and drives headless Chromium.
#   DB=spp_dci_screens HTTP_PORT=8094 bash scripts/screenshots.sh
source "$(dirname "$0")/lib.sh"
bash "$ROOT/scripts/setup.sh"
choose_postgres
db=${DB:-spp_dci_screens}
port=${HTTP_PORT:-8094}

port_busy "$port" && die "port $port is in use: stop that server or choose HTTP_PORT="
if db_exists "$db"; then
  say "Dropping the previous screenshot database $db"
  psql -d postgres -qc "drop database \"$db\" with (force)"
  rm -rf "$STATE/data/filestore/$db" "$STATE/$db.stamp"
fi
say "Creating the demo database $db"
DB=$db HTTP_PORT=$port INIT_ONLY=1 bash "$ROOT/scripts/run.sh"
trap stop_server EXIT
log=$STATE/screenshots-server.log
say "Serving $db on port $port (log: $log)"
serve_background "$log" "$port" env DB="$db" HTTP_PORT="$port" bash "$ROOT/scripts/run.sh"
"$VENV/bin/python" "$ROOT/scripts/screenshots.py" --url "http://127.0.0.1:$port" --db "$db" "$@"
