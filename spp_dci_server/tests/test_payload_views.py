"""Stored DCI messages are shown as indented JSON text, not ``[object Object]``."""

import json
import uuid

from lxml import etree

from odoo.tests import TransactionCase, tagged

PAYLOAD = {"header": {"message_id": "m-1", "action": "search"}, "message": {"items": [1, 2]}}
#: widgets that edit text (Odoo's ace editor): a Json field given to them prints [object Object]
TEXT_WIDGETS = ("ace", "code")


@tagged("post_install", "-at_install")
class TestPayloadViews(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = cls.env.ref("base.user_admin")
        cls.sender = cls.env["spp.dci.sender"].create(
            {"name": "Payload views", "client_id": "payload-views-test", "rate_limit": 0}
        )

    def form_values(self, record, names):
        """What the form view sends the browser for ``names`` (web_read, as the admin)."""
        record = record.with_user(self.admin)
        view = record.get_views([(False, "form")])["views"]["form"]
        arch = etree.fromstring(view["arch"])
        for name in names:
            [node] = arch.xpath(f"//field[@name='{name}']")
            self.assertEqual(node.get("widget"), "ace")
            # JSON is highlighted as javascript: Odoo's code editor knows no "json" mode
            self.assertIn("'mode': 'javascript'", node.get("options"))
        return record.web_read({name: {} for name in names})[0]

    def test_transaction_payloads(self):
        txn = self.env["spp.dci.transaction"].create(
            {
                "action": "search",
                "mode": "async",
                "correlation_id": str(uuid.uuid4()),
                "sender_id": self.sender.id,
                "request_payload": PAYLOAD,
                "response_payload": {"header": {"status": "succ"}},
                "delivery_payload": PAYLOAD,
            }
        )
        names = ["request_payload_text", "response_payload_text", "delivery_payload_text"]
        values = self.form_values(txn, names)
        self.assertEqual(values["request_payload_text"], json.dumps(PAYLOAD, indent=2))
        self.assertEqual(
            json.loads(values["response_payload_text"]), {"header": {"status": "succ"}}
        )
        self.assertIn('\n  "header": {\n    "message_id": "m-1"', values["delivery_payload_text"])

    def test_received_callback_and_notification_payloads(self):
        inbox = self.env["spp.dci.inbox"].create(
            {
                "sender_id": self.sender.id,
                "action": "on-search",
                "message_id": str(uuid.uuid4()),
                "payload": PAYLOAD,
            }
        )
        self.assertEqual(
            self.form_values(inbox, ["payload_text"])["payload_text"],
            json.dumps(PAYLOAD, indent=2),
        )
        subscription = self.env["spp.dci.subscription"].create(
            {
                "code": "payload-views-sub",
                "sender_id": self.sender.id,
                "registry_type": "social",
                "res_model": "res.partner",
                "reg_event_type": "REGISTER",
                "record_type": "Person",
                "filter": {"sex": {"$eq": "female"}},
            }
        )
        notification = self.env["spp.dci.notification"].create(
            {
                "subscription_id": subscription.id,
                "event_type": "REGISTER",
                "res_model": "res.partner",
                "delivery_payload": PAYLOAD,
            }
        )
        values = self.form_values(notification, ["delivery_payload_text"])
        self.assertEqual(json.loads(values["delivery_payload_text"]), PAYLOAD)
        values = self.form_values(subscription, ["filter_text"])
        self.assertEqual(values["filter_text"], '{\n  "sex": {\n    "$eq": "female"\n  }\n}')

    def test_no_view_of_the_suite_gives_a_json_field_to_a_text_widget(self):
        module_views = self.env["ir.model.data"].search(
            [("model", "=", "ir.ui.view"), ("module", "=like", "spp_dci%")]
        )
        views = self.env["ir.ui.view"].browse(module_views.mapped("res_id")).exists()
        checked = 0
        for view in views:
            for node in etree.fromstring(view.arch_db or "<x/>").iter("field"):
                if node.get("widget") not in TEXT_WIDGETS:
                    continue
                model = self.env[view.model]
                field = model._fields.get(node.get("name"))
                if field is None:  # a field of a one2many's sub-view: not on this model
                    continue
                checked += 1
                self.assertIn(field.type, ("text", "html"), f"{view.xml_id}: {field.name}")
        self.assertGreaterEqual(checked, 6)
