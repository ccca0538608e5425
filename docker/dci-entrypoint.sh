#!/bin/bash
# Entry point of the Odoo services of docker-compose.yml: dci-entrypoint.sh DB COMMAND...
# The key_secret of database DB (it encrypts the DCI private signing keys stored there) is
# made on the first start in the odoo-data volume, beside Odoo's data_dir but outside the
# filestore (so it is not in Odoo's backups), reused on every later start and handed to
# Odoo as SPP_DCI_KEY_SECRET; then COMMAND runs. A SPP_DCI_KEY_SECRET of your own (.env)
# is used as it is. SPP_DCI_SECRETS_DIR moves the directory.
set -euo pipefail
db=$1
shift
if [[ -z ${SPP_DCI_KEY_SECRET:-} ]]; then
  file=$(bash "$(dirname "$0")/../scripts/key_secret.sh" \
    "${SPP_DCI_SECRETS_DIR:-/var/lib/odoo/spp_dci/key_secrets}" "$db")
  SPP_DCI_KEY_SECRET=$(<"$file")
  export SPP_DCI_KEY_SECRET
fi
exec "$@"
