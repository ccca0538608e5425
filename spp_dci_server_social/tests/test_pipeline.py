"""The request pipeline: one write per sync search, caches, and their invalidation.

What the server did is read from PostgreSQL itself: ``pg_stat_xact_user_tables``
counts, per table, the rows written and the scans made in the current
transaction, which Odoo's test cursors share with the served request.
"""

from odoo.addons.fastapi.pools import fastapi_app_pool
from odoo.addons.spp_dci_server.services.txn_status import NOT_KEPT
from odoo.modules.registry import Registry
from odoo.tests import tagged

from .common import SocialCase

SYNC = "/registry/sync/search"
CACHED_TABLES = ("spp_dci_peer_key", "spp_dci_signing_key")


@tagged("post_install", "-at_install")
class TestPipeline(SocialCase):
    def table_stats(self):
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT relname, n_tup_ins, n_tup_upd, n_tup_del, "
            "coalesce(seq_scan, 0) + coalesce(idx_scan, 0) FROM pg_stat_xact_user_tables"
        )
        return {row[0]: row[1:] for row in self.env.cr.fetchall()}

    def delta(self, before, after):
        changes = {}
        for table, values in after.items():
            old = before.get(table, (0, 0, 0, 0))
            diff = tuple(new - prev for new, prev in zip(values, old, strict=True))
            if any(diff):
                changes[table] = diff
        return changes

    def uin_item(self, value="ZB-UIN-001"):
        return self.search_item("idtype-value", {"type": "UIN", "value": value})

    def test_sync_search_writes_one_row(self):
        self.sync_search(self.uin_item())  # warm the caches and the token
        before = self.table_stats()
        response, body = self.sync_search(self.uin_item())
        changes = self.delta(before, self.table_stats())
        self.assertEqual(body["header"]["status"], "succ", body)
        writes = {t: d[:3] for t, d in changes.items() if any(d[:3])}
        self.assertEqual(writes, {"spp_dci_transaction": (1, 0, 0)})
        # sender, its keys and our signing key come from the per-process caches; the one
        # look at spp_dci_sender is the foreign-key check of the INSERT
        self.assertFalse({t: d for t, d in changes.items() if t in CACHED_TABLES}, changes)
        self.assertLessEqual(changes.get("spp_dci_sender", (0, 0, 0, 0))[3], 1, changes)
        txn = self.env["spp.dci.transaction"].search(
            [("correlation_id", "=", body["message"]["correlation_id"])]
        )
        self.assertEqual((txn.state, txn.item_count), ("done", 1))
        self.assertEqual(len(txn.request_digest), 64)
        self.assertEqual(len(txn.response_digest), 64)
        self.assertGreaterEqual(txn.duration_ms, 0)
        # written by its endpoint for its sender: no res_users foreign keys to check
        self.assertFalse(txn.create_uid or txn.write_uid)
        self.assertFalse(txn.sudo().request_payload)  # off by default for sync searches
        self.assertFalse(txn.sudo().response_payload)

        # a txn status about it says its records were not kept
        status_message = {
            "transaction_id": "status-of-sync",
            "txnstatus_request": {
                "reference_id": "s-1",
                "txn_type": "search",
                "attribute_type": "correlation_id",
                "attribute_value": txn.correlation_id,
            },
        }
        response = self.post(
            "/registry/sync/txn/status", self.envelope("txn-status", status_message)
        )
        status = self.assertSpecResponse("/registry/sync/txn/status", response)
        [item] = status["message"]["txnstatus_response"]["txn_status"]["search_response"]
        self.assertEqual((item["status"], item["status_reason_message"]), ("succ", NOT_KEPT))

    def test_store_payloads_setting(self):
        self.endpoint.dci_store_payloads = True
        self.endpoint.flush_recordset()
        fastapi_app_pool.invalidate(self.env)
        self.addCleanup(fastapi_app_pool.invalidate, self.env)
        envelope = self.search_envelope(self.uin_item())
        response = self.post(SYNC, envelope)
        body = self.assertSpecResponse(SYNC, response)
        txn = self.env["spp.dci.transaction"].search(
            [("correlation_id", "=", body["message"]["correlation_id"])]
        )
        self.assertEqual(txn.sudo().request_payload, envelope)
        self.assertEqual(txn.sudo().response_payload, body)

    def test_reuse_decided_by_the_unique_index(self):
        envelope = self.search_envelope(self.uin_item())
        self.assertEqual(self.post(SYNC, envelope).status_code, 200)
        # the identical re-send is answered again and writes nothing (ON CONFLICT DO NOTHING)
        before = self.table_stats()
        self.assertEqual(self.post(SYNC, envelope).status_code, 200)
        changes = self.delta(before, self.table_stats())
        self.assertEqual(changes.get("spp_dci_transaction", (0, 0, 0))[:3], (0, 0, 0), changes)
        # another message with the same message_id writes nothing but its refusal
        message = dict(envelope["message"], transaction_id="another-transaction")
        other = self.envelope("search", message, header=envelope["header"])
        before = self.table_stats()
        response = self.post(SYNC, other)
        self.assertRejected(response, 409, "rjct.message_id.duplicate")
        changes = self.delta(before, self.table_stats())
        self.assertEqual(changes["spp_dci_transaction"][:3], (1, 0, 0))
        rows = self.env["spp.dci.transaction"].search(
            [("message_id", "=", envelope["header"]["message_id"])]
        )
        self.assertEqual(sorted(rows.mapped("state")), ["done", "rejected"])

    def test_sender_deactivated_takes_effect_at_once(self):
        sender = self._make_sender("spmis-cached", self.sender_key)
        token = self.token("spmis-cached")
        header = self.header("search", sender_id="spmis-cached")
        message = {"transaction_id": "t", "search_request": [self.uin_item()]}
        envelope = self.envelope("search", message, header=header, sender_id="spmis-cached")
        self.assertEqual(self.post(SYNC, envelope, token=token).status_code, 200)
        sender.active = False
        header = self.header("search", sender_id="spmis-cached")
        envelope = self.envelope("search", message, header=header, sender_id="spmis-cached")
        self.assertHttpError(
            self.post(SYNC, envelope, token=token), 401, "err.request.unauthorized"
        )

    def test_sender_key_removed_takes_effect_at_once(self):
        self.sync_search(self.uin_item())
        self.sender.key_ids.active = False
        self.addCleanup(
            setattr, self.sender.with_context(active_test=False).key_ids, "active", True
        )
        response = self.post(SYNC, self.search_envelope(self.uin_item()))
        self.assertHttpError(response, 401, "err.signature.invalid")

    def test_key_rotation_and_revocation(self):
        Key = self.env["spp.dci.signing.key"]
        old = Key.search([("state", "=", "active")])
        old_token = self.get_token()
        _response, body = self.sync_search(self.uin_item())
        self.assertEqual(self.assertSignedByUs(body).key_id, old.kid)
        new = Key.create({"name": "rotated"})
        new.action_activate()
        _response, body = self.sync_search(self.uin_item(), token=old_token)  # still trusted
        self.assertEqual(self.assertSignedByUs(body).key_id, new.kid)
        self.assertEqual(set(self.our_public_keys()), {old.kid, new.kid})
        old.action_revoke()
        self.assertEqual(set(self.our_public_keys()), {new.kid})
        response = self.post(SYNC, self.search_envelope(self.uin_item()), token=old_token)
        self.assertHttpError(response, 401, "err.request.unauthorized")

    def test_other_worker_change_reaches_this_process(self):
        """A change made by another process arrives through Odoo's cache signalling."""
        Sender = self.env["spp.dci.sender"]
        info = Sender._dci_sender_info("spmis-test")
        self.assertEqual(info.rate_limit, 0)
        # another worker changes the sender: its row, and its signal_changes()
        self.env.cr.execute(
            "UPDATE spp_dci_sender SET rate_limit = 7 WHERE id = %s", (self.sender.id,)
        )
        self.env.cr.execute("INSERT INTO orm_signaling_default DEFAULT VALUES")
        self.assertEqual(Sender._dci_sender_info("spmis-test").rate_limit, 0)  # still cached
        # what Odoo does at the start of every request of this worker (unpatched)
        Registry.check_signaling(self.registry, self.env.cr)
        self.env.invalidate_all()
        self.assertEqual(Sender._dci_sender_info("spmis-test").rate_limit, 7)
