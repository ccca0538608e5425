from odoo import api, fields, models


class SppDciSecret(models.Model):
    """Credentials of DCI records (data sources, senders), kept out of reach of every user.

    No group has any access right on this model (its one ACL line grants
    nothing), so no RPC, view or export can read a secret back: only code
    reads it, with ``sudo()``, to authenticate. Records hold write-only fields
    (``spp.dci.secret.mixin``) that store into this model. One row per record
    and secret name; the owner is ``res_model`` + ``res_id`` so that every
    addon of the suite can keep secrets here without depending on another.
    """

    _name = "spp.dci.secret"
    _description = "DCI Secret (write-only credential)"
    _log_access = False

    res_model = fields.Char(required=True)
    res_id = fields.Many2oneReference(model_field="res_model", required=True)
    name = fields.Char(required=True, help="The write-only field the secret was typed in.")
    value = fields.Char(required=True, prefetch=False)

    _owner_name_unique = models.Constraint(
        "UNIQUE(res_model, res_id, name)", "A record has one secret of each kind."
    )

    @api.model
    def _dci_domain(self, records, name=None):
        domain = [("res_model", "=", records._name), ("res_id", "in", records.ids)]
        return [*domain, ("name", "=", name)] if name else domain

    @api.model
    def _dci_get(self, record, name):
        secret = self.sudo().search(self._dci_domain(record, name), limit=1)
        return secret.value or None

    @api.model
    def _dci_set(self, record, name, value):
        secrets = self.sudo().search(self._dci_domain(record, name))
        if not value:
            secrets.unlink()
        elif secrets:
            secrets.write({"value": value})
        else:
            self.sudo().create(
                {"res_model": record._name, "res_id": record.id, "name": name, "value": value}
            )

    @api.model
    def _dci_has(self, records, name):
        """Ids of ``records`` that have secret ``name``."""
        rows = self.sudo().search_read(self._dci_domain(records, name), ["res_id"])
        return {row["res_id"] for row in rows}

    @api.model
    def _dci_forget(self, records, names=None):
        domain = self._dci_domain(records)
        if names:
            domain.append(("name", "in", list(names)))
        self.sudo().search(domain).unlink()


class SppDciSecretMixin(models.AbstractModel):
    """Write-only secret fields: typed in a form, kept in ``spp.dci.secret``, never shown.

    A model lists its secret fields in ``_dci_secret_fields``; each is declared
    as ``fields.Char(compute="_compute_dci_secret_fields",
    inverse="_inverse_dci_secret_fields", copy=False)`` and may have a
    ``has_<name>`` Boolean computed by ``_compute_dci_has_secrets``. The fields
    always read empty (``read()``, the form, exports, ``copy()``); typing a value
    stores it, an empty value keeps the stored one. Code reads a secret with
    :meth:`_dci_secret`.
    """

    _name = "spp.dci.secret.mixin"
    _description = "DCI Write-only Secrets"

    #: Names of the write-only secret fields of the model.
    _dci_secret_fields = ()

    def _compute_dci_secret_fields(self):
        for record in self:
            for name in self._dci_secret_fields:
                record[name] = False

    def _compute_dci_has_secrets(self):
        secrets = self.env["spp.dci.secret"]
        for name in self._dci_secret_fields:
            flag = f"has_{name}"
            if flag not in self._fields:
                continue
            with_secret = secrets._dci_has(self, name)
            for record in self:
                record[flag] = record.id in with_secret

    def _inverse_dci_secret_fields(self):
        """Move typed secrets into ``spp.dci.secret`` and forget them here.

        The cache is invalidated so that the value is not even echoed back by the
        read that follows a save.
        """
        secrets = self.env["spp.dci.secret"]
        names = self._dci_secret_fields
        for record in self:
            for name in names:
                if record[name]:
                    secrets._dci_set(record, name, record[name])
        flags = [f"has_{name}" for name in names if f"has_{name}" in self._fields]
        self.invalidate_recordset([*names, *flags])

    def _dci_secret(self, name):
        """The stored secret ``name`` of this record, or None."""
        self.ensure_one()
        return self.env["spp.dci.secret"]._dci_get(self, name)

    def _dci_forget_secrets(self, names=None):
        self.env["spp.dci.secret"]._dci_forget(self, names)

    def unlink(self):
        self._dci_forget_secrets()
        return super().unlink()
