#!/usr/bin/env bash
# Fuzz the DCI Social Registry with schemathesis over its own OpenAPI document
# (/dci/social/openapi.json), served as `make run` serves (threaded, queue_job runner):
#   - checks not_a_server_error, response_schema_conformance, content_type_conformance;
#   - 100 examples per operation (FUZZ_EXAMPLES=), once with a valid token of the
#     sender dci-fuzz (every scope, signature policy off), once without a token.
# schemathesis lives in its own virtualenv (.odoo/fuzz-venv): its dependencies are
# not Odoo's. scripts/fuzz_hooks.py gives generated envelopes our ids and a fresh
# message_ts, so they get past the header to the handlers. Reports (JUnit, and a pytest file reproducing each failure) go to
# .odoo/fuzz/. Exits non-zero when schemathesis finds anything.
#   DB=spp_dci_fuzz HTTP_PORT=8072 bash scripts/fuzz.sh [schemathesis run options...]
source "$(dirname "$0")/lib.sh"
bash "$ROOT/scripts/setup.sh"
choose_postgres
db=${DB:-spp_dci_fuzz}
port=${HTTP_PORT:-8072}
examples=${FUZZ_EXAMPLES:-100}
schemathesis_version=4.32.5
fuzz_venv=$STATE/fuzz-venv
reports=$STATE/fuzz
base=http://127.0.0.1:$port/dci/social

if [[ ! -x "$fuzz_venv/bin/schemathesis" ]] ||
   ! "$fuzz_venv/bin/schemathesis" --version 2>/dev/null | grep -q "$schemathesis_version"; then
  say "Installing schemathesis $schemathesis_version in $fuzz_venv"
  "$VENV/bin/python" -m venv "$fuzz_venv"
  "$fuzz_venv/bin/python" -m pip --disable-pip-version-check -q install \
    "schemathesis==$schemathesis_version"
fi

port_busy "$port" && die "port $port is in use: stop that server or choose HTTP_PORT="
say "Creating or upgrading the database $db"
DB=$db HTTP_PORT=$port INIT_ONLY=1 bash "$ROOT/scripts/run.sh"
{ read -r secret; read -r our_id; } < <("$VENV/bin/python" "$ROOT/scripts/fuzz_sender.py" \
  --config "$STATE/odoo-$db.conf" --db "$db" | tail -2)
[[ -n "$our_id" ]] || die "could not register the sender dci-fuzz"
trap stop_server EXIT
log=$STATE/fuzz-server.log
say "Serving $db on port $port (log: $log)"
serve_background "$log" "$port" env DB="$db" HTTP_PORT="$port" bash "$ROOT/scripts/run.sh"

token=$(curl -fsS "$base/oauth2/client/token" -d grant_type=client_credentials \
  -d client_id=dci-fuzz --data-urlencode "client_secret=$secret" |
  "$VENV/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')
[[ -n "$token" ]] || die "no token for the sender dci-fuzz"

mkdir -p "$reports"
found=0
fuzz() {  # fuzz NAME [schemathesis options...]
  local name=$1; shift
  say "schemathesis, $name: $examples examples per operation"
  mkdir -p "$reports/$name"
  # run from the reports folder: schemathesis keeps its state in ./.schemathesis
  (cd "$reports/$name" && SCHEMATHESIS_HOOKS=fuzz_hooks PYTHONPATH="$ROOT/scripts" FUZZ_RECEIVER_ID="$our_id" \
    "$fuzz_venv/bin/schemathesis" run "$base/openapi.json" \
    --checks not_a_server_error,response_schema_conformance,content_type_conformance \
    --max-examples "$examples" --generation-database none --no-color \
    --report junit,pytest --report-dir "$reports/$name" "$@") || found=1
}
fuzz with-token -H "Authorization: Bearer $token" "$@"
fuzz without-token "$@"
if [[ $found == 0 ]]; then
  say "schemathesis found nothing (reports: $reports)"
else
  die "schemathesis found failures (reports: $reports; server log: $log)"
fi
