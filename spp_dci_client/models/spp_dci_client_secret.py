# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
from odoo import api, fields, models

SECRET_NAMES = [
    ("bearer_token", "Static bearer token"),
    ("oauth2_client_secret", "OAuth2 client secret"),
]


class SppDciClientSecret(models.Model):
    """Credentials of a data source, kept out of reach of every user.

    No group has any access right on this model (its one ACL line grants
    nothing), so no RPC, view or export can read a secret back: only the client
    code reads it, with ``sudo()``, to authenticate. The data source shows write-only
    fields that store into this model.
    """

    _name = "spp.dci.client.secret"
    _description = "DCI Data Source Secret"
    _log_access = False

    data_source_id = fields.Many2one(
        "spp.dci.data.source", required=True, ondelete="cascade", index=True
    )
    name = fields.Selection(SECRET_NAMES, required=True)
    value = fields.Char(required=True, prefetch=False)

    _data_source_name_unique = models.Constraint(
        "UNIQUE(data_source_id, name)", "A data source has one secret of each kind."
    )

    @api.model
    def _dci_get(self, data_source, name):
        secret = self.sudo().search(
            [("data_source_id", "=", data_source.id), ("name", "=", name)], limit=1
        )
        return secret.value or None

    @api.model
    def _dci_set(self, data_source, name, value):
        secrets = self.sudo().search([("data_source_id", "=", data_source.id), ("name", "=", name)])
        if not value:
            secrets.unlink()
        elif secrets:
            secrets.write({"value": value})
        else:
            self.sudo().create({"data_source_id": data_source.id, "name": name, "value": value})

    @api.model
    def _dci_has(self, data_sources, name):
        """Ids of ``data_sources`` that have secret ``name``."""
        rows = self.sudo().search_read(
            [("data_source_id", "in", data_sources.ids), ("name", "=", name)], ["data_source_id"]
        )
        return {row["data_source_id"][0] for row in rows}
