from datetime import timedelta

from odoo import api, fields, models

#: Rows older than this are dropped by the autovacuum (the limits look back 60 s).
KEEP_HOURS = 24


class SppDciAuthFailure(models.Model):
    """One failed authentication on the token endpoint or a receiver path.

    The failure limits (``services/ratelimit.py``) count these rows, so they
    hold across every worker and node. Rows are written only while the limit
    is not reached (a refusal with 429 writes nothing), so a caller adds at most
    its limit of rows per key and minute. Written and read with SQL by the
    request pipeline; no group has access (its one ACL line grants nothing).
    """

    _name = "spp.dci.auth.failure"
    _description = "DCI Failed Authentication"
    _log_access = False
    _order = "failed_at desc, id desc"

    key = fields.Char(
        required=True, help="What failed: client:<client id>, address:<ip> or callback:<ip>."
    )
    failed_at = fields.Datetime(required=True)

    _key_failed_at_index = models.Index("(key, failed_at)")

    @api.autovacuum
    def _gc_auth_failures(self):
        limit = fields.Datetime.now() - timedelta(hours=KEEP_HOURS)
        self.env.cr.execute("DELETE FROM spp_dci_auth_failure WHERE failed_at < %s", (limit,))
