"""Individual registrants whose name parts changed after creation kept a stale ``name``.

Before 19.0.1.6.0 only create() and the form's onchange composed ``name`` from
the given, additional and family names; a write of the parts (an import, an
API call, a DCI answer applied) left it as it was. Find those rows with one
query and recompose them through the ORM, so that ``complete_name`` follows.
"""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    cr.execute(
        """
        SELECT id FROM (
            SELECT id, name, concat_ws(' ', NULLIF(given_name, ''), NULLIF(addl_name, ''),
                                       NULLIF(family_name, '')) AS composed
              FROM res_partner
             WHERE is_registrant AND NOT COALESCE(is_group, FALSE)
        ) AS registrants
         WHERE composed != '' AND name IS DISTINCT FROM composed
        """
    )
    ids = [row[0] for row in cr.fetchall()]
    if ids:
        env = api.Environment(cr, SUPERUSER_ID, {"mail_notrack": True})
        env["res.partner"].browse(ids)._dci_sync_registrant_name()
