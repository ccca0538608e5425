import uuid

from odoo.addons.spp_dci.dci import spec
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .subscribe_common import NEWNAME, SubscribeCase


@tagged("post_install", "-at_install")
class TestSubscribeNotify(SubscribeCase):
    """Subscribe, then registry changes are notified (signed, batched); unsubscribe."""

    def test_sender_uri_without_on_subscribe_is_refused_in_the_ack(self):
        """No notify URL can be derived: refused at once, not ACKed and refused later."""
        item = self.subscribe_item(self.expression({"surname": {"$eq": NEWNAME}}))

        def post():
            message = {"transaction_id": str(uuid.uuid4()), "subscribe_request": [item]}
            envelope = self.envelope(
                "subscribe", message, sender_uri=self.receiver.url("/spmis/subscriptions")
            )
            return self.post("/registry/subscribe", envelope)

        self.assertFalse(self.sender.notify_uri or self.sender.callback_base_url)
        body = self.assertErrAck(post(), 400, "err.sender_uri.invalid", "/registry/subscribe")
        self.assertIn("must end with /on-subscribe", body["message"]["error"]["message"])
        self.assertFalse(self.pending_jobs(), "nothing is processed later")
        txn = self.env["spp.dci.transaction"].search(
            [("sender_id", "=", self.sender.id), ("action", "=", "subscribe")]
        )
        self.assertEqual(txn.mapped("state"), ["rejected"])
        # with a notify URI (or a default callback URL) configured, the same request is fine
        self.sender.notify_uri = self.receiver.url("/spmis/registry/notify")
        response = post()
        self.assertEqual(
            self.assertSpecResponse("/registry/subscribe", response)["message"]["ack_status"], "ACK"
        )
        self.run_jobs()
        [callback] = self.receiver.requests
        self.assertEqual(callback["path"], "/spmis/subscriptions")
        [result] = callback["json"]["message"]["subscribe_response"]
        self.assertEqual(result["status"], "succ", result)

    def test_subscribe_then_notify_batched(self):
        filter_value = self.expression({"surname": {"$eq": NEWNAME}})
        [result] = self.subscribe(self.subscribe_item(filter_value, filter_type="expression"))
        self.assertEqual(result["status"], "succ", result)
        [info] = result["subscriptions"]
        self.assertEqual(info["status"], "subscribe")
        code = info["code"]
        subscription = self.env["spp.dci.subscription"].search([("code", "=", code)])
        self.assertEqual(
            (subscription.sender_id, subscription.record_type), (self.sender, "Person")
        )
        self.assertEqual(subscription.notify_uri, self.receiver.url("/spmis/registry/notify"))

        # three matching registrants created together, one changed twice, one not matching
        people = self.new_person("Ann") + self.new_person("Ben") + self.new_person("Cid")
        people[0].write({"phone": "+1555"})
        self.new_person("Zed", family="Elsewhere")
        self.run_jobs(method="_dci_match_changes")  # committed: the changes are matched
        notification = self.env["spp.dci.notification"].search(
            [("subscription_id", "=", subscription.id)]
        )
        self.assertEqual(len(notification), 1, "changes are batched in one notify")
        self.assertEqual(sorted(notification.record_ids), sorted(people.ids))
        [notify] = self.notifications()
        data = notify["json"]
        spec.validate_request("social", "/registry/notify", data)
        self.assertSignedByUs(data)
        self.assertEqual(data["header"]["action"], "notify")
        self.assertEqual(data["header"]["meta"], {"subscription_codes": [code]})
        events = data["message"]["notify_event"]
        self.assertEqual(len(events), 3)
        self.assertEqual({e["data"]["reg_event_type"] for e in events}, {"REGISTER"})
        self.assertEqual(
            sorted(e["data"]["reg_records"]["name"]["given_name"] for e in events),
            ["Ann", "Ben", "Cid"],
        )
        self.assertEqual(data["message"]["transaction_id"], subscription.transaction_id)
        notification.invalidate_recordset()
        self.assertEqual((notification.state, notification.delivery_state), ("built", "sent"))

        # an identifier added later is a change too; the registrant is notified again
        self.env["spp.registry.id"].create(
            {"partner_id": people[1].id, "id_type_id": self.uin.id, "value": "NF-UIN-1"}
        )
        [notify] = self.notifications()
        [event] = notify["json"]["message"]["notify_event"]
        self.assertEqual(
            event["data"]["reg_records"]["identifier"][0]["identifier_value"], "NF-UIN-1"
        )

        # unsubscribe: no more notifications
        message = self.unsubscribe([code])
        self.assertEqual(message["status"], "succ", message)
        self.assertEqual(message["subscription_status"], [{"code": code, "status": "unsubscribe"}])
        self.new_person("Dot")
        self.assertEqual(self.notifications(), [])

    def test_new_household_member_notifies_the_group(self):
        [result] = self.subscribe(
            self.subscribe_item(
                [
                    {
                        "expression1": {
                            "attribute_name": "NID",
                            "operator": "eq",
                            "attribute_value": "ZB-HH-001",
                        }
                    }
                ],
                event="NewHouseHoldMember",
                record_type="Group",
            )
        )
        self.assertEqual(result["status"], "succ", result)
        baby = self.new_person("Baby", family="Zembla")
        self.env["spp.group.membership"].create(
            {"group_id": self.household.id, "individual_id": baby.id, "relationship": "CHILD"}
        )
        [notify] = self.notifications()
        spec.validate_request("social", "/registry/notify", notify["json"])
        [event] = notify["json"]["message"]["notify_event"]
        self.assertEqual(event["data"]["reg_event_type"], "NewHouseHoldMember")
        self.assertEqual(event["data"]["reg_record_type"], "Group")
        self.assertEqual(event["data"]["reg_records"]["group_size"], 5)

    def test_change_by_a_case_worker_is_notified(self):
        [result] = self.subscribe(
            self.subscribe_item(self.expression({"surname": {"$eq": NEWNAME}}))
        )
        self.assertEqual(result["status"], "succ", result)
        worker = new_test_user(
            self.env,
            "dci_worker",
            groups="base.group_user,base.group_partner_manager,spp_dci.group_dci_user",
        )
        with self.assertRaises(AccessError):
            self.env["spp.dci.notification"].with_user(worker).create(
                {}
            )  # no rights on notifications
        self.new_person("Eve").with_user(worker).write({"phone": "+1"})
        self.env["res.partner"].with_user(worker).create(
            {"is_registrant": True, "given_name": "Fay", "family_name": NEWNAME}
        )
        dci_user = self.env.ref("spp_dci_server.user_dci_server")
        match = self.match_jobs()
        self.assertEqual(match.user_id, dci_user, "matching runs as the DCI server")
        self.run_jobs(method="_dci_match_changes")
        send = self.pending_jobs()
        self.assertEqual(send.method_name, "_dci_send")
        self.assertEqual(send.user_id, dci_user, "sending runs as the DCI server")
        [notify] = self.notifications()
        names = sorted(
            e["data"]["reg_records"]["name"]["given_name"]
            for e in notify["json"]["message"]["notify_event"]
        )
        self.assertEqual(names, ["Eve", "Fay"])

    def test_subscribe_rejections_per_item(self):
        good = self.subscribe_item(
            self.expression({"surname": {"$eq": "Other"}}), reference_id="good"
        )
        results = self.subscribe(
            good,
            self.subscribe_item(
                self.expression({"poverty_score": {"$lt": 3}}), reference_id="filter"
            ),
            self.subscribe_item(
                self.expression({"surname": {"$eq": "X"}}), event="DEATH", reference_id="event"
            ),
            self.subscribe_item(
                self.expression({"surname": {"$eq": "X"}}), record_type="Car", reference_id="type"
            ),
        )
        codes = [(r["reference_id"], r["status"], r.get("status_reason_code")) for r in results]
        self.assertEqual(
            codes,
            [
                ("good", "succ", None),
                ("filter", "rjct", "rjct.notify_details.invalid"),
                ("event", "rjct", "rjct.notify_types.invalid"),
                ("type", "rjct", "rjct.notify_details.invalid"),
            ],
        )
        # the same subscription again
        again = dict(good, reference_id="again")
        [result] = self.subscribe(again)
        self.assertEqual(result["status_reason_code"], "rjct.event.already_subscribed")

    def test_unsubscribe_rejections(self):
        [result] = self.subscribe(
            self.subscribe_item(self.expression({"surname": {"$eq": "Mine"}}))
        )
        code = result["subscriptions"][0]["code"]
        other = self._make_sender("spmis-other", self.sender_key)
        theirs = self.env["spp.dci.subscription"].create(
            {
                "code": str(uuid.uuid4()),
                "sender_id": other.id,
                "registry_type": "social",
                "res_model": "res.partner",
                "reg_event_type": "REGISTER",
                "record_type": "Person",
                "filter_type": "idtype-value",
                "filter": {"type": "UIN", "value": "1"},
            }
        )
        message = self.unsubscribe([code, "no-such-code"])
        self.assertEqual(
            (message["status"], message["status_reason_code"]),
            ("rjct", "rjct.subscription_code.invalid"),
        )
        message = self.unsubscribe([theirs.code])
        self.assertEqual(
            (message["status"], message["status_reason_code"]), ("rjct", "rjct.requester.invalid")
        )
        self.assertEqual(theirs.state, "subscribe")
        message = self.unsubscribe([code])
        self.assertEqual(message["status"], "succ")
        message = self.unsubscribe([code])
        self.assertEqual(message["status_reason_code"], "rjct.event.already_unsubscribed")
