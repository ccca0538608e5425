#!/usr/bin/env bash
# Where make run / make test keep a database's key_secret, checked for real (scripts/test.sh
# runs this on full runs): a fresh checkout (an empty .odoo/) run against an existing database
# gets the secret that database was set up with; another database gets its own; an older
# checkout's .odoo/dci_key_secret is taken over for its existing databases; a database that
# has keys but no kept secret is warned about; SPP_DCI_KEY_SECRET replaces the file; the
# secret is never printed. Uses a scratch database and temporary directories only.
source "$(dirname "$0")/lib.sh"
choose_postgres 2>/dev/null
unset SPP_DCI_KEY_SECRET
work=$(mktemp -d)
db=spp_dci_secret_check_$$
trap 'psql -d postgres -qc "drop database if exists \"$db\"" >/dev/null 2>&1; rm -rf "$work"' EXIT
fail() { die "key secret check: $*"; }
checks=0
ok() { checks=$((checks + 1)); }

# conf_of CHECKOUT DB: write_odoo_conf as a checkout whose .odoo/ is $work/CHECKOUT; prints
# the key_secret line's value (stderr kept in $work/CHECKOUT.err)
conf_of() {
  STATE=$work/$1 write_odoo_conf "$work/$1.conf" "$2" 8069 2>"$work/$1.err"
  sed -n 's/^key_secret = //p' "$work/$1.conf"
}
not_printed() {  # the secret $1 is in no output of checkout $2
  ! grep -qF -- "$1" "$work/$2.err" || fail "checkout $2 printed the secret"
}

createdb "$db"
SECRETS_DIR=$work/secrets

first=$(conf_of clone1 "$db")
[[ ${#first} -ge 43 ]] || fail "no generated secret in the configuration"
[[ $(stat -c %a "$work/clone1.conf") == 600 ]] || fail "the configuration holding the secret must be 600"
[[ $(stat -c %a "$SECRETS_DIR/$db") == 600 && $(stat -c %a "$SECRETS_DIR") == 700 ]] ||
  fail "the secret file must be 600 in a 700 directory"
[[ ! -e $work/clone1/dci_key_secret ]] || fail "the secret is kept in the checkout"
grep -q "made the key secret of database $db" "$work/clone1.err" || fail "no note of the new secret"
not_printed "$first" clone1
ok
# a fresh clone (or git clean) against the same database finds the same secret
[[ $(conf_of clone2 "$db") == "$first" ]] || fail "a fresh checkout got another secret"
not_printed "$first" clone2
ok
# another database, another secret
other=$(conf_of clone2 "${db}_other")
[[ -n $other && $other != "$first" ]] || fail "two databases share a secret"
ok

# an older checkout's .odoo/dci_key_secret encrypted its existing databases: taken over
SECRETS_DIR=$work/secrets-legacy
mkdir -p "$work/old"
echo "legacy-secret-of-an-older-checkout-0123456789" >"$work/old/dci_key_secret"
[[ $(conf_of old "$db") == legacy-secret-of-an-older-checkout-0123456789 ]] ||
  fail "the older checkout's secret was not taken over"
grep -q "taken over" "$work/old.err" || fail "no note of the takeover"
not_printed legacy-secret-of-an-older-checkout-0123456789 old
ok

# a database with keys and no kept secret: a loud warning (and a new secret, so Odoo starts
# and the key pair can be replaced from the UI)
SECRETS_DIR=$work/secrets-lost
psql -d "$db" -qc "create table spp_dci_signing_key (id int); insert into spp_dci_signing_key values (1)"
lost=$(conf_of clone3 "$db")
grep -q "WARNING: database $db has DCI signing keys" "$work/clone3.err" || fail "no warning"
[[ -n $lost ]] || fail "no secret made for a database whose secret is lost"
not_printed "$lost" clone3
ok

# SPP_DCI_KEY_SECRET replaces the file: none is made, none is written in the configuration
SECRETS_DIR=$work/secrets-env
[[ -z $(SPP_DCI_KEY_SECRET=from-the-environment-0123456789abcdef conf_of clone4 "$db") ]] ||
  fail "key_secret written although SPP_DCI_KEY_SECRET is set"
[[ ! -e $SECRETS_DIR ]] || fail "a secret file was made although SPP_DCI_KEY_SECRET is set"
ok

say "Key secret location: $checks checks passed"
