#!/usr/bin/env bash
# The main job: set up, create (or upgrade) the demo database with the whole
# suite and its demo data, then serve Odoo on 127.0.0.1:8069 with the queue_job
# runner. DB=name picks another database; HTTP_PORT=8069 another port;
# INIT_ONLY=1 stops once the database is created/upgraded (used by replica.sh).
source "$(dirname "$0")/lib.sh"
bash "$ROOT/scripts/setup.sh"
choose_postgres
db=${DB:-spp_dci_demo}
port=${HTTP_PORT:-8069}
conf=$STATE/odoo-$db.conf
write_odoo_conf "$conf" "$db" "$port"
echo "data_dir = $STATE/data" >>"$conf"
odoo=("$VENV/bin/odoo" -c "$conf")

# Upgrade only when the suite's code changed since the last run on this database.
code_hash=$(cd "$ROOT" && find . -path ./.venv -prune -o -path ./.odoo -prune -o -path ./.git -prune -o \
  -path './spp_*' -type f \( -name '*.py' -o -name '*.xml' -o -name '*.csv' \) -print0 |
  sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
stamp=$STATE/$db.stamp
if ! db_exists "$db"; then
  say "Creating database $db with the DCI suite and demo data (first run takes a few minutes)"
  "${odoo[@]}" -i spp_dci_demo --stop-after-init --log-level=warn
  echo "$code_hash" >"$stamp"
elif [[ "$(cat "$stamp" 2>/dev/null)" != "$code_hash" ]]; then
  addons=$("$VENV/bin/python" "$ROOT/scripts/suite.py" addons)
  say "Upgrading the DCI suite in database $db"
  "${odoo[@]}" -u "$addons" -i spp_dci_demo --stop-after-init --log-level=warn
  echo "$code_hash" >"$stamp"
fi
[[ -z "${INIT_ONLY:-}" ]] || exit 0

base=http://127.0.0.1:$port
cat <<MSG

  Odoo:          $base/odoo        (login: admin / password: admin)
  Database:      $db on $PGUSER@$PGHOST:$PGPORT
  DCI Social Registry (server):
    token:       POST $base/dci/social/oauth2/client/token
    sync search: POST $base/dci/social/registry/sync/search
    async:       POST $base/dci/social/registry/search  (callback to header.sender_uri)
    JWKS:        GET  $base/dci/social/.well-known/jwks.json
    API docs:    $base/dci/social/docs
  Demo (spp_dci_demo):
    inbound:     .venv/bin/python scripts/demo_search.py --url $base   (plays the external MIS "demo-mis")
    outbound:    DCI > Client > Data Sources: the demo loops to this server (social, CRVS, IBR, DR)
  Logs: stdout.  Stop: Ctrl-C.

MSG
exec "${odoo[@]}"
