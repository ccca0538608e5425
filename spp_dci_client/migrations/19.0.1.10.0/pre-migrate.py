"""Data sources become records of a peer (spp.dci.peer, spp_dci 19.0.1.5.0).

(Numbered 19.0.1.10.0, above every version the client had before the peer model,
so that a database installed at an intermediate 19.0.1.9.0 is migrated too.)

Runs after spp_dci_server's migration, which made a peer of every sender: a data
source whose registry_sender_id is a sender's client_id joins that peer (one
registry, configured once); the others get a new peer. The peer takes the data
source's JWKS URL when it has none, ``require_signature`` as its signature
policy (the stricter one wins), its TLS setting and our OAuth2 token URL and
client id there (the data source's win over the sender's callback ones); the
spp.dci.data.source.key rows become spp.dci.peer.key rows (kid rule unchanged
for them). The old columns are dropped by the post-migrate script.
"""

import logging

from odoo.tools.sql import column_exists, table_exists

_logger = logging.getLogger(__name__)

AUDIT = "create_uid, create_date, write_uid, write_date"


def migrate(cr, version):
    if not column_exists(cr, "spp_dci_data_source", "registry_sender_id"):
        return
    # one source per registry id gives the peer its settings: the active, then the oldest
    cr.execute("DROP TABLE IF EXISTS dci_source_peer")
    cr.execute(
        """
        CREATE TEMP TABLE dci_source_peer ON COMMIT DROP AS
        SELECT DISTINCT ON (registry_sender_id)
               id, name, registry_sender_id, jwks_url, coalesce(tls_verify, true) AS tls_verify,
               CASE WHEN coalesce(require_signature, true) THEN 'required' ELSE 'off' END
                   AS signature_policy, oauth2_token_url, oauth2_client_id,
               create_uid, create_date, write_uid, write_date
          FROM spp_dci_data_source
         WHERE registry_sender_id IS NOT NULL
         ORDER BY registry_sender_id, active DESC, id
        """
    )
    cr.execute(
        """
        SELECT p.dci_id
          FROM spp_dci_peer p JOIN dci_source_peer d ON d.registry_sender_id = p.dci_id
         WHERE p.signature_policy != d.signature_policy
            OR (p.jwks_url IS NOT NULL AND d.jwks_url IS NOT NULL AND p.jwks_url != d.jwks_url)
        """
    )
    for (dci_id,) in cr.fetchall():
        _logger.warning(
            "DCI peer %s: its sender and data source had different JWKS URLs or signature "
            "policies; the peer keeps the sender's JWKS URL and the stricter policy",
            dci_id,
        )
    cr.execute(
        """
        UPDATE spp_dci_peer p
           SET jwks_url = coalesce(p.jwks_url, d.jwks_url),
               tls_verify = d.tls_verify,
               token_url = coalesce(d.oauth2_token_url, p.token_url),
               our_client_id = coalesce(d.oauth2_client_id, p.our_client_id),
               signature_policy = CASE WHEN d.signature_policy = 'required' THEN 'required'
                                       ELSE p.signature_policy END
          FROM dci_source_peer d
         WHERE d.registry_sender_id = p.dci_id
        """
    )
    cr.execute(
        f"""
        INSERT INTO spp_dci_peer (name, dci_id, jwks_url, jwks_allow_http, tls_verify,
                                  signature_policy, allow_private_callbacks, token_url,
                                  our_client_id, {AUDIT})
        SELECT name, registry_sender_id, jwks_url, false, tls_verify, signature_policy, false,
               oauth2_token_url, oauth2_client_id, create_uid, create_date, write_uid, write_date
          FROM dci_source_peer
        ON CONFLICT (dci_id) DO NOTHING
        """
    )
    cr.execute("ALTER TABLE spp_dci_data_source ADD COLUMN IF NOT EXISTS peer_id integer")
    cr.execute(
        """
        UPDATE spp_dci_data_source s SET peer_id = p.id
          FROM spp_dci_peer p
         WHERE p.dci_id = s.registry_sender_id AND s.peer_id IS NULL
        """
    )
    _logger.info("DCI: %s data source(s) linked to their peer", cr.rowcount)
    if table_exists(cr, "spp_dci_data_source_key"):
        cr.execute(
            f"""
            INSERT INTO spp_dci_peer_key (peer_id, active, kid, algorithm, public_key, {AUDIT})
            SELECT s.peer_id, k.active, k.kid, k.algorithm, k.key_data,
                   k.create_uid, k.create_date, k.write_uid, k.write_date
              FROM spp_dci_data_source_key k
              JOIN spp_dci_data_source s ON s.id = k.data_source_id
             WHERE s.peer_id IS NOT NULL
            ON CONFLICT (peer_id, kid) DO NOTHING
            """
        )
