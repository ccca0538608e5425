#!/usr/bin/env bash
# Prove that the DCI searches read on Odoo's read-only cursor: with db_replica_host set, a
# PostgreSQL streaming replica serves the registry lookups and only the transaction row
# reaches the primary (`make replica`).
#
#  1. checks that the primary (the server chosen as for `make run`) accepts a replication
#     connection from this user; if pg_hba.conf lacks the line, appends one
#     (`host replication <user> 127.0.0.1/32 trust`, marked), reloads, and removes it on exit.
#     A missing wal_level/max_wal_senders needs a restart: printed, never done here;
#  2. creates/upgrades the dedicated database spp_dci_replica on the primary
#     (DB=..., as `make run` does, with spp_dci_demo and its demo data);
#  3. takes a fresh `pg_basebackup -R -X stream` into .odoo/replica and starts it as a hot
#     standby on 127.0.0.1:5433 (next free port; as the `postgres` OS user when run as root)
#     with log_statement=all, log in .odoo/replica.log;
#  4. serves Odoo on 127.0.0.1:8072 (HTTP_PORT=...) with db_replica_host/db_replica_port
#     pointing at the standby (config .odoo/odoo-<db>-replica.conf, log .odoo/replica-odoo.log);
#  5. scripts/replica_check.py sends N=50 (N=...) signed sync searches as the demo MIS and
#     reports the statements and table scans on each server and the new transaction rows.
#
# Exit 0 only when the primary got exactly N transaction rows and the replica served the
# registry lookups. Odoo and the standby are stopped on exit, the standby's data directory
# removed (KEEP_REPLICA=1 keeps it); the primary keeps only the database and its new rows.
source "$(dirname "$0")/lib.sh"
choose_postgres
db=${DB:-spp_dci_replica}
n=${N:-50}
replica_dir=$STATE/replica
replica_log=$STATE/replica.log
odoo_log=$STATE/replica-odoo.log
conf=$STATE/odoo-$db-replica.conf
hba_marker="# added by spp_dci scripts/replica.sh (removed on exit)"
primary=(-h "$PGHOST" -p "$PGPORT" -U "$PGUSER")
q() { psql "${primary[@]}" -d postgres -Atqc "$1"; }
mkdir -p "$STATE"

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
  local p
  for p in $(seq "$1" $(($1 + 20))); do port_free "$p" && { echo "$p"; return; }; done
  die "no free port in $1-$(($1 + 20))"
}
replica_port=$(free_port "${REPLICA_PORT:-5433}")
http_port=$(free_port "${HTTP_PORT:-8072}")

# PostgreSQL refuses to run as root: as root, the standby belongs to the 'postgres' user.
runas=()
if [[ $(id -u) == 0 ]]; then
  id postgres >/dev/null 2>&1 || die "running as root needs a 'postgres' OS user for the standby"
  runas=(runuser -u postgres --)
fi
major=$(q "select current_setting('server_version_num')::int / 10000")
bindir=/usr/lib/postgresql/$major/bin
[[ -x $bindir/pg_basebackup ]] || bindir=$(dirname "$(command -v pg_basebackup || echo /none/x)")
[[ -x $bindir/pg_ctl ]] || die "PostgreSQL $major server binaries not found (pg_basebackup, pg_ctl)"

odoo_pid=
hba_added=
cleanup() {
  set +e
  if [[ -n $odoo_pid ]] && kill -0 "$odoo_pid" 2>/dev/null; then
    say "Stopping Odoo (pid $odoo_pid)"
    kill "$odoo_pid"
    for _ in $(seq 1 30); do kill -0 "$odoo_pid" 2>/dev/null || break; sleep 1; done
    kill -9 "$odoo_pid" 2>/dev/null
    wait "$odoo_pid" 2>/dev/null
  fi
  if [[ -f $replica_dir/postmaster.pid ]]; then
    say "Stopping the standby on port $replica_port"
    "${runas[@]}" "$bindir/pg_ctl" -D "$replica_dir" -m fast -w -t 60 stop >/dev/null
  fi
  if [[ -n $hba_added ]]; then
    say "Removing the replication line from $hba_added and reloading the primary"
    local kept; kept=$(grep -vF "$hba_marker" "$hba_added")
    printf '%s\n' "$kept" >"$hba_added"   # in place: owner and mode unchanged
    q "select pg_reload_conf()" >/dev/null
  fi
  [[ -n ${KEEP_REPLICA:-} ]] || rm -rf "$replica_dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- 1. the primary must accept a replication connection ---------------------------------
can_replicate() {
  psql "host=$PGHOST port=$PGPORT user=$PGUSER dbname=replication replication=true" \
    -Atqc IDENTIFY_SYSTEM >/dev/null 2>&1
}
wal_level=$(q "show wal_level")
senders=$(q "show max_wal_senders")
busy=$(q "select count(*) from pg_stat_replication")
role_ok=$(q "select rolsuper or rolreplication from pg_roles where rolname = current_user")
say "Primary $PGHOST:$PGPORT: PostgreSQL $major, wal_level=$wal_level, max_wal_senders=$senders ($busy in use)"
if [[ $wal_level == minimal || $((senders - busy)) -lt 2 ]]; then
  die "the primary cannot stream to a standby: it needs wal_level = replica and max_wal_senders >= $((busy + 2)).
  Both need a restart, which this script does not do on a shared server. Set them in
  $(q 'show config_file') (or ALTER SYSTEM SET ...), restart PostgreSQL, then run it again."
fi
[[ $role_ok == t ]] || die "database user $PGUSER may not replicate: ALTER ROLE \"$PGUSER\" REPLICATION (as a superuser)"
hba=$(q "show hba_file" 2>/dev/null || true)  # superusers (and pg_read_all_settings) only
if [[ -r $hba ]] && grep -qF "$hba_marker" "$hba"; then
  hba_added=$hba   # our line, left by a killed run: removed on exit as well
fi
if can_replicate; then
  say "Primary: replication connections from $PGUSER@127.0.0.1 already allowed"
else
  [[ -w $hba ]] || die "pg_hba.conf ($hba) allows no replication connection from $PGUSER@127.0.0.1 and is
  not writable here. Add the line   host replication $PGUSER 127.0.0.1/32 trust
  and reload PostgreSQL (SELECT pg_reload_conf()), then run this again."
  say "Primary: no pg_hba.conf line allows replication: appending one to $hba and reloading (removed on exit)"
  printf 'host replication %s 127.0.0.1/32 trust  %s\n' "$PGUSER" "$hba_marker" >>"$hba"
  hba_added=$hba
  q "select pg_reload_conf()" >/dev/null
  for _ in $(seq 1 20); do can_replicate && break; sleep 0.5; done
  can_replicate || die "the primary still refuses the replication connection after the reload"
fi

# --- 2. the database, on the primary before the base backup ----------------------------------
say "Database $db on the primary: create or upgrade it as 'make run' does"
DB=$db HTTP_PORT=$http_port INIT_ONLY=1 bash "$ROOT/scripts/run.sh"

# --- 3. the standby --------------------------------------------------------------------------
if [[ -f $replica_dir/postmaster.pid ]]; then   # left over by an interrupted run
  "${runas[@]}" "$bindir/pg_ctl" -D "$replica_dir" -m fast -w stop >/dev/null 2>&1 || true
fi
rm -rf "$replica_dir"
say "pg_basebackup -R -X stream from $PGHOST:$PGPORT into $replica_dir"
"$bindir/pg_basebackup" "${primary[@]}" -D "$replica_dir" -R -X stream -c fast
# A Debian cluster keeps its configuration outside the data directory: give the standby its
# own, with the settings a hot standby must not set lower than its primary.
settings=$(q "select string_agg(name || ' = ' || setting, E'\n') from pg_settings where name in
  ('max_connections', 'max_worker_processes', 'max_wal_senders', 'max_prepared_transactions',
   'max_locks_per_transaction')")
cat >"$replica_dir/postgresql.conf" <<CONF
# hot standby of $PGHOST:$PGPORT for scripts/replica.sh (primary_conninfo: postgresql.auto.conf)
listen_addresses = '127.0.0.1'
unix_socket_directories = '$replica_dir'
cluster_name = 'spp_dci_replica'
log_line_prefix = '%m [%p] %a@%d '
$settings
CONF
printf 'local all all trust\nhost all all 127.0.0.1/32 trust\n' >"$replica_dir/pg_hba.conf"
: >"$replica_dir/pg_ident.conf"
: >"$replica_log"
if [[ ${#runas[@]} -gt 0 ]]; then chown -R postgres: "$replica_dir" "$replica_log"; fi
say "Starting the standby on 127.0.0.1:$replica_port (log: $replica_log)"
"${runas[@]}" "$bindir/pg_ctl" -D "$replica_dir" -l "$replica_log" -w -t 120 \
  -o "-p $replica_port -c hot_standby=on -c log_statement=all -c logging_collector=off" start >/dev/null ||
  { tail -20 "$replica_log"; die "the standby did not start (see $replica_log)"; }
rq() { psql -h 127.0.0.1 -p "$replica_port" -U "$PGUSER" -d postgres -Atqc "$1"; }
streaming() {
  [[ $(rq "select status from pg_stat_wal_receiver" 2>/dev/null) == streaming &&
     $(q "select state from pg_stat_replication where application_name = 'spp_dci_replica'") == streaming ]]
}
for _ in $(seq 1 60); do streaming && break; sleep 1; done
streaming || { tail -20 "$replica_log"; die "the standby does not stream from the primary"; }
say "Standby streaming: pg_is_in_recovery() = $(rq 'select pg_is_in_recovery()'), the primary's \
pg_stat_replication: $(q "select state || ', ' || sync_state from pg_stat_replication
  where application_name = 'spp_dci_replica'")"

# --- 4. Odoo on the primary, reads on the replica --------------------------------------------
write_odoo_conf "$conf" "$db" "$http_port"
sed -i "/^\[options\]/a db_replica_host = 127.0.0.1\ndb_replica_port = $replica_port" "$conf"
say "Starting Odoo on 127.0.0.1:$http_port: db_host $PGHOST:$PGPORT, db_replica_host 127.0.0.1:$replica_port (log: $odoo_log)"
"$VENV/bin/odoo" -c "$conf" >"$odoo_log" 2>&1 &
odoo_pid=$!
for _ in $(seq 1 300); do
  curl -fs -o /dev/null "http://127.0.0.1:$http_port/web/login" && break
  kill -0 "$odoo_pid" 2>/dev/null || { tail -30 "$odoo_log"; die "Odoo stopped (see $odoo_log)"; }
  sleep 1
done
curl -fs -o /dev/null "http://127.0.0.1:$http_port/web/login" || die "Odoo did not answer on port $http_port"

# --- 5. the searches and the report ----------------------------------------------------------
say "Sending $n signed sync searches and comparing the two servers"
status=0
"$VENV/bin/python" "$ROOT/scripts/replica_check.py" --db "$db" --url "http://127.0.0.1:$http_port" \
  --host "$PGHOST" --port "$PGPORT" --user "$PGUSER" --replica-port "$replica_port" \
  --replica-log "$replica_log" --odoo-log "$odoo_log" -n "$n" --json "$STATE/replica-report.json" ||
  status=$?
exit "$status"
