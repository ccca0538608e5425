"""The demo peers (demo/spp_dci_peer_demo.xml) are the peers the upgrade already made.

spp_dci_server's and spp_dci_client's migrations turned the demo senders and data
sources into peers, one per DCI id. Give those peers the XML ids of the demo file
(kept as they are, noupdate), so that loading it does not create them a second time.
"""

DEMO_PEERS = {
    "demo_peer_mis": "demo-mis",
    "demo_peer_openspp": "openspp",
    "demo_peer_crvs": "demo-crvs",
    "demo_peer_ibr": "demo-ibr",
    "demo_peer_dr": "demo-dr",
}


def migrate(cr, version):
    for name, dci_id in DEMO_PEERS.items():
        cr.execute(
            """
            INSERT INTO ir_model_data (module, name, model, res_id, noupdate)
            SELECT 'spp_dci_demo', %s, 'spp.dci.peer', p.id, true
              FROM spp_dci_peer p
             WHERE p.dci_id = %s
            ON CONFLICT (module, name) DO NOTHING
            """,
            (name, dci_id),
        )
