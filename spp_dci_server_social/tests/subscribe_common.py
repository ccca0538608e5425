"""Subscribe over real HTTP, receive the callbacks and notifications (helpers)."""

import uuid
from datetime import UTC, datetime

from odoo.addons.spp_dci.dci import spec
from odoo.addons.spp_dci.dci.schemas.common import format_timestamp

from .common import SocialCase

NEWNAME = "Notifyson"


class SubscribeCase(SocialCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ir.config_parameter"].set_param("spp_dci_server.notify_batch_seconds", 30)

    def subscribe_item(
        self,
        filter_value,
        event="REGISTER",
        record_type="Person",
        filter_type=None,
        reference_id=None,
        frequency=None,
    ):
        criteria = {
            "reg_event_type": event,
            "filter": filter_value,
            "notify_record_type": record_type,
        }
        if filter_type:
            criteria["filter_type"] = filter_type
        if frequency:
            criteria["frequency"] = frequency
        return {
            "reference_id": reference_id or str(uuid.uuid4()),
            "timestamp": format_timestamp(datetime.now(UTC)),
            "subscribe_criteria": criteria,
        }

    @staticmethod
    def receiver_prefix(sender_id):
        """Where the callback receiver takes ``sender_id``'s callbacks and notifications."""
        return "/spmis" if sender_id == "spmis-test" else f"/{sender_id}"

    def subscribe(self, *items, sender_id="spmis-test", key=None):
        """POST /registry/subscribe as ``sender_id``; returns on-subscribe's items."""
        message = {"transaction_id": str(uuid.uuid4()), "subscribe_request": list(items)}
        prefix = self.receiver_prefix(sender_id)
        envelope = self.envelope(
            "subscribe",
            message,
            key=key,
            sender_id=sender_id,
            total_count=len(items),
            sender_uri=self.receiver.url(f"{prefix}/registry/on-subscribe"),
        )
        response = self.post("/registry/subscribe", envelope, client_id=sender_id)
        body = self.assertSpecResponse("/registry/subscribe", response)
        self.assertEqual(body["message"]["ack_status"], "ACK", body)
        self.run_jobs()
        callback = self.receiver.requests.pop(0)
        self.assertEqual(callback["path"], f"{prefix}/registry/on-subscribe")
        spec.validate_request("social", "/registry/on-subscribe", callback["json"])
        self.assertSignedByUs(callback["json"])
        self.assertEqual(
            callback["json"]["message"]["correlation_id"], body["message"]["correlation_id"]
        )
        return callback["json"]["message"]["subscribe_response"]

    def subscribed(self, *items, **kwargs):
        """Subscribe ``items`` (all must succeed); returns the subscriptions, in order."""
        results = self.subscribe(*items, **kwargs)
        self.assertEqual([r["status"] for r in results], ["succ"] * len(items), results)
        codes = [r["subscriptions"][0]["code"] for r in results]
        found = self.env["spp.dci.subscription"].search([("code", "in", codes)])
        return found.sorted(lambda s: codes.index(s.code))

    def unsubscribe(self, codes):
        message = {
            "transaction_id": str(uuid.uuid4()),
            "timestamp": format_timestamp(datetime.now(UTC)),
            "subscription_codes": codes,
        }
        envelope = self.envelope(
            "unsubscribe",
            message,
            sender_uri=self.receiver.url("/spmis/registry/on-unsubscribe"),
        )
        response = self.post("/registry/unsubscribe", envelope)
        self.assertSpecResponse("/registry/unsubscribe", response)
        self.run_jobs()
        [callback] = [r for r in self.receiver.requests if r["path"].endswith("/on-unsubscribe")]
        self.receiver.requests.clear()
        spec.validate_request("social", "/registry/on-unsubscribe", callback["json"])
        self.assertSignedByUs(callback["json"])
        return callback["json"]["message"]

    def new_person(self, given, family=NEWNAME, **values):
        return self.env["res.partner"].create(
            {
                "is_registrant": True,
                "given_name": given,
                "family_name": family,
                "sex": "female",
                **values,
            }
        )

    def notifications(self, ignore_eta=True):
        """Commit, run the jobs (match, send, deliver); the notify requests received."""
        self.receiver.requests.clear()
        self.run_jobs(ignore_eta=ignore_eta)
        return [r for r in self.receiver.requests if r["path"].endswith("/notify")]

    def match_jobs(self):
        """Commit; the pending match jobs (one per committed transaction with changes)."""
        self.commit_hooks()
        return self.pending_jobs().filtered(lambda j: j.method_name == "_dci_match_changes")
