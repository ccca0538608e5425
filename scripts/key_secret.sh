#!/usr/bin/env bash
# key_secret.sh [-q] DIR DB [FROM]: print the path of DIR/DB, the file that holds the
# key_secret of database DB (the secret that encrypts its DCI private signing keys), making
# it on first use: a copy of FROM when given, else 32 random bytes in base64url, and saying
# so on stderr (not with -q). The directory is made 700, the file 600; the secret itself is
# never printed. Used by scripts/lib.sh (make run, make test) and docker/dci-entrypoint.sh.
set -euo pipefail
quiet=
[[ ${1:-} != -q ]] || { quiet=1; shift; }
[[ $# -ge 2 ]] || { echo "usage: key_secret.sh [-q] DIR DB [FROM]" >&2; exit 2; }
dir=$1 db=$2 from=${3:-}
# Odoo's own rule for database names; also keeps the name a plain file name
[[ $db =~ ^[A-Za-z0-9][A-Za-z0-9_.-]*$ ]] || { echo "key_secret.sh: bad database name: $db" >&2; exit 2; }
file=$dir/$db
if [[ ! -e $file ]]; then
  umask 077
  mkdir -p "$dir"
  tmp=$(mktemp "$dir/.$db.XXXXXX")
  if [[ -n $from ]]; then
    cat "$from" >"$tmp"
  else
    printf '%s\n' "$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')" >"$tmp"
  fi
  # a hard link never replaces a secret that another run made meanwhile
  if ln "$tmp" "$file" 2>/dev/null && [[ -z $from$quiet ]]; then
    echo "key_secret.sh: made the key secret of database $db in $file; back it up with" \
      "the database (dumps do not hold it, and without it the keys cannot be used)" >&2
  fi
  rm -f "$tmp"
fi
[[ -s $file ]] || { echo "key_secret.sh: $file is empty; restore it or remove it" >&2; exit 1; }
echo "$file"
