"""Finish moving senders onto peers (see pre-migrate.py).

Our callback client secret at a sender becomes its peer's (``our_client_secret``
in spp.dci.secret): it runs after 19.0.0.2.0's post-migrate, which may just
have moved it from its former column. Then the sender columns whose values
moved to the peer are dropped: Odoo keeps the column of a field that no longer
exists, and the client secret digest and key settings must live in one place.
"""

from odoo.tools.sql import column_exists

MOVED = (
    "client_id",
    "jwks_url",
    "jwks_allow_http",
    "signature_policy",
    "callback_hosts",
    "allow_private_callbacks",
    "client_secret_hash",
    "secret_set_at",
    "callback_token_url",
    "callback_client_id",
)


def migrate(cr, version):
    if not column_exists(cr, "spp_dci_sender", "peer_id"):
        return
    cr.execute(
        """
        UPDATE spp_dci_secret o
           SET res_model = 'spp.dci.peer', res_id = s.peer_id, name = 'our_client_secret'
          FROM spp_dci_sender s
         WHERE o.res_model = 'spp.dci.sender' AND o.name = 'callback_client_secret'
           AND o.res_id = s.id AND s.peer_id IS NOT NULL
        """
    )
    cr.execute("SELECT count(*) FROM spp_dci_sender WHERE peer_id IS NULL")
    if cr.fetchone()[0]:
        return  # never lose a setting: keep the columns of a sender left without peer
    # its rows were copied to spp_dci_peer_key before the new code loaded; Odoo removes
    # the model's ir.model entries but not its table
    cr.execute("DROP TABLE IF EXISTS spp_dci_sender_key")
    for column in MOVED:
        if column_exists(cr, "spp_dci_sender", column):
            cr.execute(f'ALTER TABLE spp_dci_sender DROP COLUMN "{column}"')
