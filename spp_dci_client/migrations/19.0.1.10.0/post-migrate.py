"""Finish moving data sources onto peers (see pre-migrate.py).

Our OAuth2 client secret at a registry becomes its peer's (``our_client_secret``
in spp.dci.secret), replacing a sender's callback secret of the same peer: it
runs after 19.0.0.2.0's post-migrate, which may just have moved it there. A
peer takes the secret of its active (else oldest) data source; secrets of other
data sources of the same registry have no place left and are dropped. Then the
data source columns whose values moved to the peer are dropped.
"""

import logging

from odoo.tools.sql import column_exists

_logger = logging.getLogger(__name__)

MOVED = (
    "registry_sender_id",
    "jwks_url",
    "require_signature",
    "tls_verify",
    "oauth2_token_url",
    "oauth2_client_id",
)


def migrate(cr, version):
    if not column_exists(cr, "spp_dci_data_source", "peer_id"):
        return
    cr.execute("DROP TABLE IF EXISTS dci_source_secret")
    cr.execute(
        """
        CREATE TEMP TABLE dci_source_secret ON COMMIT DROP AS
        SELECT DISTINCT ON (s.peer_id) o.id AS secret_id, s.peer_id
          FROM spp_dci_secret o JOIN spp_dci_data_source s ON s.id = o.res_id
         WHERE o.res_model = 'spp.dci.data.source' AND o.name = 'oauth2_client_secret'
           AND s.peer_id IS NOT NULL
         ORDER BY s.peer_id, s.active DESC, s.id
        """
    )
    cr.execute(
        """
        DELETE FROM spp_dci_secret o USING dci_source_secret d
         WHERE o.res_model = 'spp.dci.peer' AND o.res_id = d.peer_id
           AND o.name = 'our_client_secret'
        """
    )
    cr.execute(
        """
        UPDATE spp_dci_secret o
           SET res_model = 'spp.dci.peer', res_id = d.peer_id, name = 'our_client_secret'
          FROM dci_source_secret d
         WHERE o.id = d.secret_id
        """
    )
    cr.execute(
        """
        DELETE FROM spp_dci_secret o USING spp_dci_data_source s
         WHERE o.res_model = 'spp.dci.data.source' AND o.name = 'oauth2_client_secret'
           AND o.res_id = s.id AND s.peer_id IS NOT NULL
        """
    )
    if cr.rowcount:
        _logger.warning(
            "DCI: %s client secret(s) of inactive duplicate data sources dropped "
            "(each peer keeps the one of its active data source)",
            cr.rowcount,
        )
    cr.execute("SELECT count(*) FROM spp_dci_data_source WHERE peer_id IS NULL")
    if cr.fetchone()[0]:
        return  # never lose a setting: keep the columns of a data source left without peer
    cr.execute("DROP TABLE IF EXISTS spp_dci_data_source_key")  # copied by pre-migrate
    for column in MOVED:
        if column_exists(cr, "spp_dci_data_source", column):
            cr.execute(f'ALTER TABLE spp_dci_data_source DROP COLUMN "{column}"')
