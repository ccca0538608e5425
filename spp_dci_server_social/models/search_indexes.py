"""An index for every attribute a DCI search can filter or sort on (``ATTRIBUTES_*``).

A search is ``<base domain> AND <conditions>`` on ``res.partner``; without an
index on a searched column PostgreSQL reads the whole table, and any sender
could ask for that many times a minute. The DCI operators (eq, lt, gt, le, ge,
in) are all served by a btree. Columns most partners leave empty get a partial
index (``btree_not_null``): every DCI condition implies ``IS NOT NULL``. Already
indexed elsewhere: ``family_name``, ``birthdate`` (spp_dci), ``registration_date``
and ``dci_group_size`` (``registry_changes.py``), identifiers (the unique
``(id_type_id, value)`` index), ``res_country.code`` (unique).
``test_search_limits`` checks each attribute against ``pg_indexes``.
"""

from odoo import fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    given_name = fields.Char(index="btree_not_null")
    addl_name = fields.Char(index="btree_not_null")
    sex = fields.Selection(index="btree_not_null")
    death_date = fields.Date(index="btree_not_null")
    phone = fields.Char(index="btree_not_null")
    email = fields.Char(index="btree_not_null")
    city = fields.Char(index="btree_not_null")
    zip = fields.Char(index="btree_not_null")
    state_id = fields.Many2one(index="btree_not_null")
    country_id = fields.Many2one(index="btree_not_null")
    # last_updated: the attribute of "what changed since" syncs
    write_date = fields.Datetime(index=True)


class ResCountryState(models.Model):
    _inherit = "res.country.state"

    # address.region_code compares the code alone; the unique index leads with country_id
    code = fields.Char(index=True)
