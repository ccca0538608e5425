"""Drop the data source columns whose values moved to spp.dci.peer (see pre-migrate.py)."""

from odoo.tools.sql import column_exists

MOVED = ("registry_sender_id", "jwks_url", "require_signature", "tls_verify")


def migrate(cr, version):
    if not column_exists(cr, "spp_dci_data_source", "peer_id"):
        return
    cr.execute("SELECT count(*) FROM spp_dci_data_source WHERE peer_id IS NULL")
    if cr.fetchone()[0]:
        return  # never lose a setting: keep the columns of a data source left without peer
    for column in MOVED:
        if column_exists(cr, "spp_dci_data_source", column):
            cr.execute(f'ALTER TABLE spp_dci_data_source DROP COLUMN "{column}"')
