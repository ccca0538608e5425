"""Registrants created by earlier CRVS imports get ``crvs_import_id`` (the "import origin").

The field is new in 19.0.1.6.0; until then only the import's lines said who it
created. One UPDATE from those lines: the first import that created each
registrant, for those not pointing at one yet.
"""


def migrate(cr, version):
    cr.execute(
        """
        UPDATE res_partner p
           SET crvs_import_id = created.import_id
          FROM (SELECT DISTINCT ON (partner_id) partner_id, import_id
                  FROM spp_dci_crvs_import_line
                 WHERE outcome = 'created' AND partner_id IS NOT NULL
              ORDER BY partner_id, id) AS created
         WHERE p.id = created.partner_id AND p.crvs_import_id IS NULL
        """
    )
