"""Senders become records of a peer (spp.dci.peer, spp_dci 19.0.1.5.0).

Before the new code loads: each sender's DCI id (client_id), JWKS URL, signature
policy, hosts, client secret digest and our callback credentials (token URL,
client id) go to a peer (one per DCI id), its
spp.dci.sender.key rows to spp.dci.peer.key, and the sender points at its peer
(``peer_id``, filled before Odoo makes the column NOT NULL). The old columns are
dropped by the post-migrate script; Odoo drops the old key table with its model.
"""

import logging

from odoo.tools.sql import column_exists, table_exists

_logger = logging.getLogger(__name__)

PEER_AUDIT = "create_uid, create_date, write_uid, write_date"


def migrate(cr, version):
    if not column_exists(cr, "spp_dci_sender", "client_id"):
        return
    cr.execute(
        f"""
        INSERT INTO spp_dci_peer (name, dci_id, jwks_url, jwks_allow_http, tls_verify,
                                  signature_policy, callback_hosts, allow_private_callbacks,
                                  client_secret_hash, secret_set_at, token_url, our_client_id,
                                  {PEER_AUDIT})
        SELECT DISTINCT ON (s.client_id)
               s.name, s.client_id, s.jwks_url, coalesce(s.jwks_allow_http, false), true,
               coalesce(s.signature_policy, 'required'), s.callback_hosts,
               coalesce(s.allow_private_callbacks, false), s.client_secret_hash,
               s.secret_set_at, s.callback_token_url, s.callback_client_id,
               s.create_uid, s.create_date, s.write_uid, s.write_date
          FROM spp_dci_sender s
         WHERE s.client_id IS NOT NULL
         ORDER BY s.client_id, s.id
        ON CONFLICT (dci_id) DO NOTHING
        """
    )
    cr.execute("ALTER TABLE spp_dci_sender ADD COLUMN IF NOT EXISTS peer_id integer")
    cr.execute(
        """
        UPDATE spp_dci_sender s SET peer_id = p.id
          FROM spp_dci_peer p
         WHERE p.dci_id = s.client_id AND s.peer_id IS NULL
        """
    )
    if table_exists(cr, "spp_dci_sender_key"):
        # the kid rule of spp.dci.peer.key is the one the sender keys had for PEM keys; a
        # JWK's kid was always its own (a differing Key ID is refused from now on)
        cr.execute(
            f"""
            INSERT INTO spp_dci_peer_key (peer_id, active, kid, algorithm, public_key,
                                          {PEER_AUDIT})
            SELECT s.peer_id, k.active, k.kid, k.algorithm, k.public_key,
                   k.create_uid, k.create_date, k.write_uid, k.write_date
              FROM spp_dci_sender_key k
              JOIN spp_dci_sender s ON s.id = k.sender_id
             WHERE s.peer_id IS NOT NULL
            ON CONFLICT (peer_id, kid) DO NOTHING
            """
        )
    _logger.info("DCI: %s sender(s) linked to their peer", cr.rowcount)
