from odoo import api, models


class ResLang(models.Model):
    _inherit = "res.lang"

    @api.model
    def _get_lang_from_accept_language(self, accept_language):
        # The fastapi dispatcher reads Accept-Language before any app runs; a header it
        # cannot parse (e.g. ">;") raised ValueError there, a 500 on every path. It is
        # only a preference: unreadable, it is ignored.
        try:
            return super()._get_lang_from_accept_language(accept_language)
        except ValueError:
            return None
