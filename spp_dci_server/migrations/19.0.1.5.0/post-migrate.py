"""Drop the sender columns whose values moved to spp.dci.peer (see pre-migrate.py).

Odoo keeps the column of a field that no longer exists: the client secret digest
and the keys' settings must live in one place only.
"""

from odoo.tools.sql import column_exists

MOVED = (
    "client_id",
    "jwks_url",
    "jwks_allow_http",
    "signature_policy",
    "callback_hosts",
    "allow_private_callbacks",
    "client_secret_hash",
    "secret_set_at",
)


def migrate(cr, version):
    if not column_exists(cr, "spp_dci_sender", "peer_id"):
        return
    cr.execute("SELECT count(*) FROM spp_dci_sender WHERE peer_id IS NULL")
    if cr.fetchone()[0]:
        return  # never lose a setting: keep the columns of a sender left without peer
    for column in MOVED:
        if column_exists(cr, "spp_dci_sender", column):
            cr.execute(f'ALTER TABLE spp_dci_sender DROP COLUMN "{column}"')
