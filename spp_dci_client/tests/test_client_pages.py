# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
"""A registry pushes the pages of one async search as separate on-search callbacks."""

from odoo.tests import tagged

from .test_client_async import DCIClientAsyncCase

EVERYONE = (  # the stub's 7 records
    "expression",
    {
        "type": "ns:org:QueryType:expression",
        "value": {"expression": {"collection": "Person", "query": {"age": {"$gt": 18}}}},
    },
)


@tagged("post_install", "-at_install")
class TestPushedPages(DCIClientAsyncCase):
    def push(self, pending, number, size=3):
        response = self.deliver(pending=pending, page={"page_size": size, "page_number": number})
        self.assertAck(response)
        return response

    def test_pages_pushed_in_order(self):
        sent = self.source._dci_search_async(*EVERYONE)
        txn = self.transaction(sent)
        self.assertFalse(txn.pagination_requested)
        pending = self.stub.pending.pop(0)
        self.push(pending, 1)
        self.assertEqual((txn.state, txn.record_count), ("partial", 3))
        self.push(pending, 2)  # was refused with 404: the first page had closed it
        self.assertEqual((txn.state, txn.record_count), ("partial", 6))
        self.push(pending, 3)
        self.assertEqual((txn.state, txn.record_count, txn.callback_count), ("done", 7, 3))
        self.assertTrue(txn.completed_at)
        [(_reference, pages)] = txn.pages_received.items()
        self.assertEqual(pages, {"pages": [1, 2, 3], "last": 3})
        jobs, calls = self.handled_records()
        self.assertEqual(jobs.mapped("state"), ["done"] * 3)
        self.assertEqual(sorted(len(call["records"]) for call in calls), [1, 3, 3])
        # once complete, a further page is not waited for
        response = self.deliver(pending=pending, page={"page_size": 3, "page_number": 2})
        self.assertEqual(response.status_code, 404, response.text)
        self.assertIn("our transaction is done", self.logs(direction="incoming")[-1].error)

    def test_pages_out_of_order(self):
        sent = self.source._dci_search_async(*EVERYONE)
        txn = self.transaction(sent)
        pending = self.stub.pending.pop(0)
        self.push(pending, 3)  # the last page first (a retried page 1, say)
        self.assertEqual(txn.state, "partial")
        self.push(pending, 1)
        self.assertEqual(txn.state, "partial")
        self.push(pending, 2)
        self.assertEqual((txn.state, txn.record_count), ("done", 7))

    def test_one_page_holds_everything(self):
        sent = self.source._dci_search_async(*EVERYONE)
        self.push(self.stub.pending.pop(0), 1, size=7)
        self.assertEqual(self.transaction(sent).state, "done")

    def test_a_page_asked_for_is_the_whole_answer(self):
        sent = self.source._dci_search_async(
            *EVERYONE, pagination={"page_size": 3, "page_number": 2}
        )
        txn = self.transaction(sent)
        self.assertTrue(txn.pagination_requested)
        self.assertAck(self.deliver())
        self.assertEqual((txn.state, txn.record_count), ("done", 3))
