# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
from starlette.middleware import Middleware

from odoo import models

from ..receiver_log import ReceiverLogMiddleware


class FastapiEndpoint(models.Model):
    _inherit = "fastapi.endpoint"

    def _get_fastapi_app_middlewares(self):
        middlewares = super()._get_fastapi_app_middlewares()
        if self.app == "dci":
            middlewares.append(Middleware(ReceiverLogMiddleware, root_path=self.root_path))
        return middlewares
