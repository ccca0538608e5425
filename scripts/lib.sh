# Shared shell helpers for setup.sh, run.sh and test.sh (sourced, not executed).
# shellcheck shell=bash
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${VENV:-$ROOT/.venv}
ODOO_SRC_DEFAULT=$HOME/odoo-19.0
ODOO_SRC=${ODOO_SRC:-$ODOO_SRC_DEFAULT}
STATE=$ROOT/.odoo                 # generated config, logs (git-ignored)
# The key_secret of a database encrypts the DCI private signing keys stored in it, so it
# belongs to the database, not to the checkout: one file per database name, outside the
# repository, that a fresh clone or `git clean` run against the same database finds again.
# SPP_DCI_SECRETS_DIR moves the directory; SPP_DCI_KEY_SECRET in the environment replaces
# the file (Odoo reads it first).
SECRETS_DIR=${SPP_DCI_SECRETS_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/spp_dci/key_secrets}
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

db_exists() { psql -d postgres -Atqc "select 1 from pg_database where datname='$1'" | grep -q 1; }

# Path of the key_secret file of database $1, made on first use (scripts/key_secret.sh);
# quietly when THROWAWAY_DB is set (test.sh: its databases live for one run).
key_secret_file() {
  local db=$1 legacy=$STATE/dci_key_secret from=
  if [[ ! -e $SECRETS_DIR/$db ]] && db_exists "$db"; then
    if [[ -s $legacy ]]; then
      # an older checkout kept one secret in .odoo/ for all the databases it made
      say "Key secret of database $db: taken over from .odoo/dci_key_secret into $SECRETS_DIR"
      from=$legacy
    elif [[ $(psql -d "$db" -Atqc "select count(*) from spp_dci_signing_key" 2>/dev/null) -gt 0 ]]; then
      say "WARNING: database $db has DCI signing keys but no key secret is kept for it in" \
        "$SECRETS_DIR: a new one is made, which cannot decrypt those keys (every DCI token" \
        "request and signed answer fails with 503). Put back the file $SECRETS_DIR/$db from" \
        "where this database was set up, or use 'Replace the key pair' in DCI > Configuration" \
        "> Signing Keys."
    fi
  fi
  bash "$ROOT/scripts/key_secret.sh" ${THROWAWAY_DB:+-q} "$SECRETS_DIR" "$db" ${from:+"$from"}
}

# Write the Odoo configuration used by run and test (single database, no db listing).
write_odoo_conf() {
  local conf=$1 db=$2 http_port=$3 secret_file secret_line
  mkdir -p "$STATE"
  if [[ -n ${SPP_DCI_KEY_SECRET:-} ]]; then
    secret_line="# key_secret: SPP_DCI_KEY_SECRET from the environment"
  else
    secret_file=$(key_secret_file "$db")
    secret_line="# kept in $secret_file (see README, Configuration)
key_secret = $(cat "$secret_file")"
  fi
  local site; site=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  rm -f "$conf"  # it holds the secret: readable by its owner only
  (umask 077 && cat >"$conf") <<CONF
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
$secret_line
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
