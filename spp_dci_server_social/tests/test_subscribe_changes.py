"""Which writes are registry changes, how they are matched, and the subscription cap."""

from odoo.addons.spp_dci.dci.keys import SigningKey
from odoo.tests import tagged

from .subscribe_common import NEWNAME, SubscribeCase


@tagged("post_install", "-at_install")
class TestRegistryChanges(SubscribeCase):
    def subscribe_newname(self, **kwargs):
        return self.subscribed(
            self.subscribe_item(self.expression({"surname": {"$eq": NEWNAME}})), **kwargs
        )

    def notified_names(self, notifies):
        return sorted(
            event["data"]["reg_records"]["name"]["given_name"]
            for notify in notifies
            for event in notify["json"]["message"]["notify_event"]
        )

    def test_only_serialised_fields_are_changes(self):
        subscription = self.subscribe_newname()
        ivy = self.new_person("Ivy", birthdate="2001-01-01")
        identifier = self.env["spp.registry.id"].create(
            {"partner_id": ivy.id, "id_type_id": self.uin.id, "value": "CHG-UIN-1"}
        )
        [notify] = self.notifications()  # the registration itself
        self.assertEqual(self.notified_names([notify]), ["Ivy"])

        # what other systems' checks and the back office write: not in the DCI record
        Partner = self.env["res.partner"]
        not_serialised = {"ref": "CHK-1", "comment": "<p>checked by the IBR</p>"}
        # the fields the IBR and DR checks write (spp_dci_client_ibr / _dr), when installed
        for name in ("ibr_checked_at", "dr_checked_at"):
            if name in Partner._fields:
                not_serialised[name] = "2024-05-01 10:00:00"
        for name, value in not_serialised.items():
            ivy.write({name: value})
        identifier.write({"issued_on": "2020-01-01"})
        self.assertFalse(self.match_jobs(), "no registry change: nothing to match")
        self.assertEqual(self.notifications(), [])
        self.assertEqual(len(subscription.notification_ids), 1)

        # each field the record is made of is a change: one notify each
        for values in ({"given_name": "Ivy2"}, {"birthdate": "2001-02-03"}):
            ivy.write(values)
            [notify] = self.notifications()
            [event] = notify["json"]["message"]["notify_event"]
            person = event["data"]["reg_records"]
            self.assertEqual(
                (person["name"]["given_name"], person["birth_date"]),
                (ivy.given_name, ivy.birthdate.isoformat()),
            )
        identifier.write({"value": "CHG-UIN-2"})
        [notify] = self.notifications()
        [event] = notify["json"]["message"]["notify_event"]
        self.assertEqual(
            event["data"]["reg_records"]["identifier"][0]["identifier_value"], "CHG-UIN-2"
        )

    def test_one_batched_match_per_transaction(self):
        other_key = SigningKey.generate()
        self._make_sender("spmis-two", other_key)
        first = self.subscribe_newname()
        second = self.subscribe_newname(sender_id="spmis-two", key=other_key)
        self.assertNotEqual(first.sender_id, second.sender_id)

        # one transaction: three registrants created, then each changed five times
        people = self.new_person("Kim") + self.new_person("Lou") + self.new_person("Max")
        for round_ in range(5):
            for person in people:
                person.write({"phone": f"+1555{round_}{person.id}"})
        Notification = self.env["spp.dci.notification"]
        self.assertFalse(
            Notification.search([("subscription_id", "in", (first | second).ids)]),
            "nothing is matched inside the user's transaction",
        )
        match = self.match_jobs()
        self.assertEqual(len(match), 1, "one match job for the whole transaction")
        self.assertEqual(self.run_jobs(method="_dci_match_changes"), 1)
        for subscription in first | second:
            notification = Notification.search([("subscription_id", "=", subscription.id)])
            self.assertEqual(len(notification), 1, "one notification per subscriber")
            self.assertEqual(sorted(notification.record_ids), sorted(people.ids))
        notifies = self.notifications()
        self.assertEqual(
            sorted(n["path"] for n in notifies),
            ["/spmis-two/registry/notify", "/spmis/registry/notify"],
        )
        for notify in notifies:
            self.assertEqual(self.notified_names([notify]), ["Kim", "Lou", "Max"])

        # a rolled back transaction queues nothing
        with self.assertRaises(RuntimeError), self.env.cr.savepoint():
            people[0].write({"phone": "+19999"})
            raise RuntimeError("rolled back")
        self.assertFalse(self.match_jobs())

    def test_subscriptions_over_the_cap_are_refused(self):
        self.sender.max_subscriptions = 2
        items = [
            self.subscribe_item(
                self.expression({"surname": {"$eq": f"Cap{n}"}}), reference_id=f"cap-{n}"
            )
            for n in range(3)
        ]
        results = self.subscribe(*items)
        self.assertEqual(
            [(r["reference_id"], r["status"], r.get("status_reason_code")) for r in results],
            [
                ("cap-0", "succ", None),
                ("cap-1", "succ", None),
                ("cap-2", "rjct", "rjct.notify_details.invalid"),
            ],
        )
        self.assertIn("subscription limit reached", results[2]["status_reason_message"])
        self.assertIn("2 active subscriptions", results[2]["status_reason_message"])
        self.assertEqual(
            self.env["spp.dci.subscription"].search_count(
                [("sender_id", "=", self.sender.id), ("state", "=", "subscribe")]
            ),
            2,
        )
        # ending one makes room
        message = self.unsubscribe([results[0]["subscriptions"][0]["code"]])
        self.assertEqual(message["status"], "succ", message)
        [result] = self.subscribe(dict(items[2], reference_id="cap-2-again"))
        self.assertEqual(result["status"], "succ", result)
        # the default: 100, and 0 lifts the cap
        self.assertEqual(self.env["spp.dci.sender"].new({}).max_subscriptions, 100)
        self.sender.max_subscriptions = 0
        [result] = self.subscribe(
            self.subscribe_item(self.expression({"surname": {"$eq": "Cap9"}}))
        )
        self.assertEqual(result["status"], "succ", result)
