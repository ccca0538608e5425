# Shared shell helpers for setup.sh, run.sh and test.sh (sourced, not executed).
# shellcheck shell=bash
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${VENV:-$ROOT/.venv}
ODOO_SRC_DEFAULT=$HOME/odoo-19.0
ODOO_SRC=${ODOO_SRC:-$ODOO_SRC_DEFAULT}
STATE=$ROOT/.odoo                 # generated config, logs, secrets (git-ignored)
PGDATA_PRIVATE=$ROOT/.pgdata      # private PostgreSQL cluster, only when needed
PRIVATE_PGPORT=${PRIVATE_PGPORT:-54329}
DCI_SPEC_DIR=${DCI_SPEC_DIR:-$(cd "$ROOT/.." && pwd)/shared/dci-spec}
export DCI_SPEC_DIR

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Choose PostgreSQL: the PG* environment when set, else a server answering on
# 127.0.0.1:5432, else a private cluster under .pgdata/ (system binaries).
choose_postgres() {
  if [[ -n "${PGHOST:-}" || -n "${PGPORT:-}" || -n "${PGUSER:-}" ]]; then
    export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-$(id -un)}
    say "PostgreSQL: from the PG* environment ($PGUSER@$PGHOST:$PGPORT)"
  elif pg_answers 127.0.0.1 5432 "$(id -un)"; then
    export PGHOST=127.0.0.1 PGPORT=5432 PGUSER=$(id -un)
    say "PostgreSQL: the server already answering on 127.0.0.1:5432 (user $PGUSER)"
  else
    start_private_cluster
  fi
  [[ "$PGUSER" != postgres ]] || die "Odoo refuses to run as database user 'postgres'; set PGUSER"
}

pg_answers() {
  command -v psql >/dev/null 2>&1 || return 1
  PGCONNECT_TIMEOUT=3 psql -h "$1" -p "$2" -U "$3" -d postgres -Atqc 'select 1' >/dev/null 2>&1
}

start_private_cluster() {
  local bindir
  bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  if [[ -z "$bindir" ]]; then
    [[ $(id -u) == 0 ]] || die "no PostgreSQL found: install it, or set PGHOST/PGPORT/PGUSER"
    say "PostgreSQL: installing the server with apt-get"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  fi
  # PostgreSQL will not run as root: the cluster belongs to the 'postgres' system user.
  local runas=()
  if [[ $(id -u) == 0 ]]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql postgres
    runas=(runuser -u postgres --)
  fi
  mkdir -p "$PGDATA_PRIVATE"
  [[ $(id -u) == 0 ]] && chown postgres "$PGDATA_PRIVATE"
  if [[ ! -f "$PGDATA_PRIVATE/PG_VERSION" ]]; then
    "${runas[@]}" "$bindir/initdb" -D "$PGDATA_PRIVATE" -A trust -U postgres >/dev/null
  fi
  if ! pg_answers 127.0.0.1 "$PRIVATE_PGPORT" postgres; then
    "${runas[@]}" "$bindir/pg_ctl" -D "$PGDATA_PRIVATE" -l "$PGDATA_PRIVATE/server.log" -w \
      -o "-p $PRIVATE_PGPORT -k $PGDATA_PRIVATE -c listen_addresses=127.0.0.1" start >/dev/null
  fi
  local me; me=$(id -un)
  psql -h 127.0.0.1 -p "$PRIVATE_PGPORT" -U postgres -d postgres -Atqc \
    "select 1 from pg_roles where rolname='$me'" | grep -q 1 ||
    psql -h 127.0.0.1 -p "$PRIVATE_PGPORT" -U postgres -d postgres -qc "create role \"$me\" login createdb"
  export PGHOST=127.0.0.1 PGPORT=$PRIVATE_PGPORT PGUSER=$me
  say "PostgreSQL: private cluster in .pgdata/ on 127.0.0.1:$PRIVATE_PGPORT (user $PGUSER)"
}

# Write the Odoo configuration used by run and test (single database, no db listing).
write_odoo_conf() {
  local conf=$1 db=$2 http_port=$3
  mkdir -p "$STATE"
  # Secret that encrypts DCI private keys at rest; made once per checkout, never committed.
  [[ -s "$STATE/dci_key_secret" ]] || (umask 077; "$VENV/bin/python" -c \
    'import secrets; print(secrets.token_urlsafe(32))' >"$STATE/dci_key_secret")
  local site; site=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  cat >"$conf" <<CONF
[options]
addons_path = $ROOT,$site/odoo/addons,$ODOO_SRC/odoo/addons
db_host = $PGHOST
db_port = $PGPORT
db_user = $PGUSER
db_name = $db
dbfilter =
list_db = False
http_interface = 127.0.0.1
http_port = $http_port
server_wide_modules = base,web,queue_job
with_demo = True
workers = 0
max_cron_threads = 1
log_level = info

[queue_job]
channels = root:2

[spp_dci]
# encrypts the private signing keys stored in the database (see README, Security)
key_secret = $(cat "$STATE/dci_key_secret")
CONF
}

# --- a server in the background (bench.sh, fuzz.sh, soak.sh) ---------------------------
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# serve_background LOG PORT COMMAND...: start an Odoo server, wait until it answers on
# PORT; SERVER_PID is its process. stop_server stops it (prefork children included).
SERVER_PID=
serve_background() {
  local log=$1 port=$2; shift 2
  "$@" >"$log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 900); do
    curl -fs -o /dev/null "http://127.0.0.1:$port/web/login" && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || { tail -30 "$log"; die "the server stopped (see $log)"; }
    sleep 1
  done
  die "the server did not answer on port $port within 15 minutes (see $log)"
}

stop_server() {
  [[ -n "$SERVER_PID" ]] || return 0
  local children; children=$(pgrep -P "$SERVER_PID" || true)  # prefork workers, gevent, run.sh's odoo
  kill "$SERVER_PID" 2>/dev/null || true
  for _ in $(seq 1 60); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.5; done
  kill -9 "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  for pid in $children; do kill -9 "$pid" 2>/dev/null || true; done
  SERVER_PID=
}
