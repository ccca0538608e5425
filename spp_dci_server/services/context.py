"""Who we are for one request: endpoint settings, our id and signer, the cursors.

A :class:`DCIContext` is made per request (a FastAPI dependency) or per queue
job; ``replica=True`` (the registry paths) sends its reads to the replica.
Everything it hands out is cached per process by the models (our signer,
decrypted once; our published keys; the senders), so a request normally
reads none of it from the database.

Reads go to Odoo's read-only cursor (:attr:`read_env`): with ``db_replica_host``
set it is a connection to the PostgreSQL replica, so searches never reach the
primary. The request's own cursor (``env``) is the read/write one; the single
write of a request goes there, after the read-only cursor is closed
(:meth:`end_reads`): Odoo's test cursors share one connection, where a
read-only savepoint must end before the next write.
"""

import odoo.modules.module
from odoo import api
from odoo.sql_db import Savepoint

from .config import EndpointConfig


class DCIContext:
    def __init__(self, env, config: EndpointConfig, *, replica=False):
        self.env = env
        self.config = config
        self._replica = replica
        self._our_id = None
        self._signer = None
        self._read_env = None
        self._read_savepoint = None

    @property
    def signer(self):
        """Our signer (the models' process cache), looked up once per request: an answer
        signs its envelope and its HTTP response."""
        if self._signer is None:
            self._signer = self.read_env["spp.dci.signing.key"]._dci_signer()
        return self._signer

    @property
    def our_id(self):
        if self._our_id is None:
            self._our_id = (
                self.config.sender_id or self.read_env["spp.dci.signing.key"]._dci_sender_id()
            )
        return self._our_id

    def receiver_ids(self):
        """Every id a callback to us may name in ``receiver_id`` (see spp.dci.inbox)."""
        return {self.our_id} | self.read_env["spp.dci.inbox"]._dci_receiver_ids()

    def token_keys(self):
        """Our published public keys, ``{kid: PublicKey}`` (they verify our tokens)."""
        return self.read_env["spp.dci.signing.key"]._dci_public_keys()

    def implementation_name(self):
        return self.read_env["spp.dci.registry"]._dci_implementation_name(self.config.registry_type)

    def sender_info(self, client_id):
        return self.read_env["spp.dci.sender"]._dci_sender_info(client_id)

    def sender(self, info):
        """The ``spp.dci.sender`` record of a SenderInfo (no query until a field is read)."""
        return self.env["spp.dci.sender"].browse(info.id)

    @property
    def read_env(self):
        """An environment on Odoo's read-only cursor (opened on first use).

        Without a replica pool (no ``db_replica_host``, not in tests) Odoo would
        hand out a second primary connection: the request's cursor serves then.
        """
        if self._read_env is None:
            registry = self.env.registry
            if not self._replica or getattr(registry, "_db_readonly", None) is None:
                return self.env
            if odoo.modules.module.current_test:
                # Odoo's test cursors share the request thread's connection and lock,
                # which the FastAPI thread cannot take: the reads run on the request's
                # cursor in a read-only savepoint, so a write there fails as on a replica.
                self._read_savepoint = Savepoint(self.env.cr)
                self.env.cr.execute("SET TRANSACTION READ ONLY")
                self._read_env = self.env
            else:
                cr = registry.cursor(readonly=True)
                self._read_env = api.Environment(cr, self.env.uid, self.env.context)
        return self._read_env

    def end_reads(self):
        """Close the read-only cursor; call before writing on ``env``."""
        if self._read_env is None:
            return
        read_env, self._read_env = self._read_env, None
        if self._read_savepoint is not None:
            savepoint, self._read_savepoint = self._read_savepoint, None
            savepoint.close(rollback=True)  # ends READ ONLY; nothing was written
        else:
            read_env.cr.close()
