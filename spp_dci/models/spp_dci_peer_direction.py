from odoo import api, models


class SppDciPeerDirection(models.AbstractModel):
    """What the records of each direction share (a sender we answer, a data source we
    call): they are ``_inherits`` children of ``spp.dci.peer``. A new record is linked to
    the peer of its DCI id (``spp.dci.peer._dci_link_vals``), and the secret it writes
    through to the peer is not echoed from the cache after a save."""

    _name = "spp.dci.peer.direction.mixin"
    _description = "DCI Peer Direction (sender or data source)"

    #: the record's own name of its peer's DCI id
    _dci_id_field = None
    #: the write-only secret stored on the peer, then its "is set" flag
    _dci_peer_secret_fields = ()

    @api.model_create_multi
    def create(self, vals_list):
        vals_list = self.env["spp.dci.peer"]._dci_link_vals(vals_list, self._dci_id_field)
        records = super().create(vals_list)
        records.invalidate_recordset(list(self._dci_peer_secret_fields))
        return records

    def write(self, vals):
        res = super().write(vals)
        if self._dci_peer_secret_fields and self._dci_peer_secret_fields[0] in vals:
            self.invalidate_recordset(list(self._dci_peer_secret_fields))
        return res
