#!/usr/bin/env bash
# The load and fault run (what it does: scripts/soak.py). Creates or upgrades the
# database as `make run` does, then soak.py serves it, loads it, takes its peer down,
# kills it. About 20 minutes with the defaults; figures in .odoo/soak.json.
#   DB=spp_dci_soak HTTP_PORT=8073 bash scripts/soak.sh [--seconds 600] [--phases soak,...]
source "$(dirname "$0")/lib.sh"
bash "$ROOT/scripts/setup.sh"
choose_postgres
db=${DB:-spp_dci_soak}
port=${HTTP_PORT:-8073}
port_busy "$port" && die "port $port is in use: stop that server or choose HTTP_PORT="
say "Creating or upgrading the database $db"
DB=$db HTTP_PORT=$port INIT_ONLY=1 bash "$ROOT/scripts/run.sh"
exec "$VENV/bin/python" "$ROOT/scripts/soak.py" --db "$db" --port "$port" "$@"
