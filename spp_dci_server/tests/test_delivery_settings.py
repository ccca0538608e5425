from odoo.tests import TransactionCase, tagged

from ..models.spp_dci_delivery_mixin import MAX_BACKOFF


@tagged("post_install", "-at_install")
class TestDeliverySettings(TransactionCase):
    """The default retry series outlasts a peer that is down for several minutes."""

    def test_default_series_outlasts_a_five_minute_outage(self):
        param = self.env.ref("spp_dci_server.param_delivery_max_attempts")
        self.assertEqual(param.value, "8", "the shipped default")
        self.env["ir.config_parameter"].sudo().search(
            [
                (
                    "key",
                    "in",
                    ("spp_dci_server.delivery_max_attempts", "spp_dci_server.delivery_backoff"),
                )
            ]
        ).unlink()
        attempts, backoff = self.env["spp.dci.transaction"]._dci_delivery_settings()
        waits = [min(backoff * 2 ** (n - 1), MAX_BACKOFF) for n in range(1, attempts)]
        self.assertGreaterEqual(sum(waits), 20 * 60, "about 21 minutes of attempts")
        self.assertLessEqual(max(waits), MAX_BACKOFF)
