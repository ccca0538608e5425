# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
import logging
import secrets
from urllib.parse import urlsplit

from odoo import api, models
from odoo.addons.spp_dci_client.client.service import JWKS_PATH, OAUTH2_TOKEN_PATH
from odoo.tools import config

_logger = logging.getLogger(__name__)

#: The demo loops: this OpenSPP's client (a data source) calling this OpenSPP's own DCI
#: endpoint, which knows it as a sender. (data source, sender, endpoint) xml ids.
LOOPS = (
    (
        "spp_dci_demo.demo_source_social",
        "spp_dci_demo.demo_sender_openspp",
        "spp_dci_server_social.fastapi_endpoint_dci_social",
    ),
    *(
        (
            f"spp_dci_demo.demo_source_{registry}",
            f"spp_dci_demo.demo_sender_{registry}",
            f"spp_dci_demo.fastapi_endpoint_dci_{registry}_demo",
        )
        for registry in ("crvs", "ibr", "dr")
    ),
)


class SppDciDemo(models.AbstractModel):
    """Wiring of the demo loops that static demo data cannot hold.

    Called by the demo data when it is installed (and by *DCI > Demo >
    Reconnect demo loops*): points the demo data sources and senders at this
    server's HTTP port, gives each loop a fresh random client secret (only its
    hash on the sender side, the write-only secret store on the client side;
    nobody sees it) and pins our active public key on the loop's peer (one for both
    sides) so that neither needs to fetch its own JWKS while answering a request.
    """

    _name = "spp.dci.demo"
    _description = "DCI Demo Wiring"

    @api.model
    def _dci_demo_base_url(self):
        """This server over loopback: ``http://127.0.0.1:<http_port>``."""
        return f"http://127.0.0.1:{config['http_port']}"

    @api.model
    def _dci_demo_connect_loops(self):
        base = self._dci_demo_base_url()
        signer = self.env["spp.dci.signing.key"].sudo()._dci_signer()
        connected = []
        for source_xmlid, sender_xmlid, endpoint_xmlid in LOOPS:
            source = self.env.ref(source_xmlid, raise_if_not_found=False)
            sender = self.env.ref(sender_xmlid, raise_if_not_found=False)
            endpoint = self.env.ref(endpoint_xmlid, raise_if_not_found=False)
            if not (source and sender and endpoint):
                continue
            root = base + endpoint.root_path
            secret = secrets.token_urlsafe(32)
            sender = sender.sudo()
            sender._dci_set_secret(secret)
            # the loop's peer: its keys, hosts, and our credentials at its token endpoint
            # serve both the data source's requests and the sender's callbacks
            sender.write(
                {
                    "jwks_url": root + JWKS_PATH,
                    "callback_token_url": root + OAUTH2_TOKEN_PATH,
                    "callback_client_id": sender.client_id,
                    "callback_client_secret": secret,
                    "callback_hosts": urlsplit(base).hostname,
                }
            )
            source = source.sudo()
            values = {"base_url": root, "callback_base_url": root}
            # one peer serves both sides of the loop: its key is pinned once
            if signer.kid not in source.peer_id.key_ids.mapped("kid"):
                values["key_ids"] = [
                    (
                        0,
                        0,
                        {
                            "kid": signer.kid,
                            "algorithm": signer.algorithm,
                            "public_key": signer.public_key.to_pem().decode(),
                        },
                    )
                ]
            source.write(values)
            connected.append(source.name)
        _logger.info("DCI demo: %s connected to %s", ", ".join(connected) or "no loop", base)
        return connected
