# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
from odoo import api, models


class SppDciCachedMixin(models.AbstractModel):
    """Records the request pipeline caches per process: a change clears Odoo's caches.

    Senders, peers and their keys are kept per worker (``ormcache``); clearing the
    registry's caches is signalled through the database, so every other worker and
    node drops its copy at its next request.
    """

    _name = "spp.dci.cached.mixin"
    _description = "DCI records cached by the request pipeline"

    @api.model_create_multi
    def create(self, vals_list):
        self.env.registry.clear_cache()
        return super().create(vals_list)

    def write(self, vals):
        self.env.registry.clear_cache()
        return super().write(vals)

    def unlink(self):
        self.env.registry.clear_cache()
        return super().unlink()
