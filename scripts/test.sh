#!/usr/bin/env bash
# Install every addon of the suite into a fresh throwaway database and run all
# their tests in real Odoo (HTTP server included). The database starts as a copy
# of a cached template that already holds the suite's dependencies, so only our
# addons are installed on each run. Ends with "N passed, N failed, N skipped". A full run
# first checks where the key secrets are kept (scripts/check_key_secret.sh).
#   TEST_TAGS=/spp_dci   run a subset (Odoo --test-tags syntax)
#   ADDONS=spp_dci       install/test only these addons
#   KEEP_DB=1            keep the test database afterwards
source "$(dirname "$0")/lib.sh"
bash "$ROOT/scripts/setup.sh"
choose_postgres
py=$VENV/bin/python
# full runs check the shell side too: where each database's key secret is kept
[[ -n ${TEST_TAGS:-}${ADDONS:-} ]] || bash "$ROOT/scripts/check_key_secret.sh"

addons=${ADDONS:-$("$py" "$ROOT/scripts/suite.py" addons)}
deps=$("$py" "$ROOT/scripts/suite.py" deps)
mkdir -p "$STATE/data"
port=$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
conf=$STATE/test-$$.conf
db=spp_dci_test_$$
THROWAWAY_DB=1 write_odoo_conf "$conf" "$db" "$port"
echo "data_dir = $STATE/data" >>"$conf"

# Template: keyed on what changes its content (Odoo, installed addon versions, deps).
key=$( ("$VENV/bin/pip" freeze 2>/dev/null | grep -i '^odoo'; echo "$deps"; ls "$ODOO_SRC/odoo/addons"; \
        git -C "$ODOO_SRC" rev-parse HEAD 2>/dev/null || stat -c %Y "$ODOO_SRC/odoo/release.py") |
      sha256sum | cut -c1-12)
tpl=spp_dci_tpl_$key
if ! db_exists "$tpl"; then
  say "Building the template database $tpl with: $deps (once per dependency set)"
  building=${tpl}_building_$$
  "$VENV/bin/odoo" -c "$conf" -d "$building" -i "$deps" --stop-after-init \
    --log-level=warn >"$STATE/template.log" 2>&1 || { tail -40 "$STATE/template.log"; die "template build failed"; }
  psql -d postgres -qc "alter database \"$building\" rename to \"$tpl\""
  [[ -d "$STATE/data/filestore/$building" ]] && mv "$STATE/data/filestore/$building" "$STATE/data/filestore/$tpl"
fi

cleanup() {
  rm -f "$conf"
  if [[ -z "${KEEP_DB:-}" ]]; then
    psql -d postgres -qc "drop database if exists \"$db\" with (force)" >/dev/null 2>&1 || true
    rm -rf "$STATE/data/filestore/$db"
    rm -f "$SECRETS_DIR/$db"
  fi
}
trap cleanup EXIT
createdb -T "$tpl" "$db"
[[ -d "$STATE/data/filestore/$tpl" ]] && cp -a "$STATE/data/filestore/$tpl" "$STATE/data/filestore/$db"

say "Installing and testing: $addons (database $db, HTTP on 127.0.0.1:$port)"
args=(-c "$conf" -d "$db" -i "$addons" --test-enable --stop-after-init --http-port "$port")
[[ -n "${TEST_TAGS:-}" ]] && args+=(--test-tags "$TEST_TAGS")
set +e
"$py" "$ROOT/scripts/run_tests.py" "${args[@]}" 2>&1 | tee "$STATE/test.log" | awk '
  # Show warnings, errors and failures with their tracebacks, the per-module
  # stats and the summary; the full log is in .odoo/test.log.
  /^[0-9]{4}-[0-9]{2}-[0-9]{2} / { show = ($4 ~ /WARNING|ERROR|CRITICAL/) || /odoo.tests.stats/ }
  /^[0-9]+ passed, / || /^no tests ran/ { show = 1 }
  show { print; fflush() }'
rc=${PIPESTATUS[0]}
set -e
exit "$rc"
