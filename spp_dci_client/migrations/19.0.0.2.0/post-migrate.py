"""Data source secrets move from spp.dci.client.secret to spp_dci's spp.dci.secret.

The old model is gone from the code; Odoo removes its ir.model entries but not
its table, which still holds every bearer token and client secret in clear:
copy the rows to the shared store, then drop the table.
"""

from odoo.tools.sql import table_exists


def migrate(cr, version):
    if not table_exists(cr, "spp_dci_client_secret"):
        return
    cr.execute(
        """
        INSERT INTO spp_dci_secret (res_model, res_id, name, value)
        SELECT 'spp.dci.data.source', data_source_id, name, value
          FROM spp_dci_client_secret
         WHERE value IS NOT NULL AND value != ''
        ON CONFLICT (res_model, res_id, name) DO UPDATE SET value = EXCLUDED.value
        """
    )
    cr.execute("DROP TABLE spp_dci_client_secret")
