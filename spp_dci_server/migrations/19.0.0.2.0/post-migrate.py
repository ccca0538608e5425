"""Senders' callback client secrets become write-only (stored in spp.dci.secret).

``callback_client_secret`` was a plain column of ``spp_dci_sender``; the field
is now a write-only field of ``spp.dci.secret.mixin``. Odoo keeps the column
of a field that is no longer stored: copy its values to the secret store, then
drop the column so that no clear value stays behind.
"""

from odoo.tools.sql import column_exists


def migrate(cr, version):
    if not column_exists(cr, "spp_dci_sender", "callback_client_secret"):
        return
    cr.execute(
        """
        INSERT INTO spp_dci_secret (res_model, res_id, name, value)
        SELECT 'spp.dci.sender', id, 'callback_client_secret', callback_client_secret
          FROM spp_dci_sender
         WHERE callback_client_secret IS NOT NULL AND callback_client_secret != ''
        ON CONFLICT (res_model, res_id, name) DO UPDATE SET value = EXCLUDED.value
        """
    )
    cr.execute("ALTER TABLE spp_dci_sender DROP COLUMN callback_client_secret")
