import socket

from odoo.addons.spp_dci_server.services.async_batch import BATCH_IDENTITY
from odoo.addons.spp_dci_server.tests.common import ConcurrencyMixin, DCIServerCase

SURNAME = "Zembla"  # no other registrant carries it: queries on it see our fixture only


class SocialCase(DCIServerCase):
    """The /dci/social endpoint (data of this addon) with a small household."""

    endpoint_xmlid = "spp_dci_server_social.fastapi_endpoint_dci_social"
    spec_name = "social"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.uin = cls.env.ref("spp_dci.id_type_uin")
        cls.nid = cls.env.ref("spp_dci.id_type_nid")
        Partner = cls.env["res.partner"]
        country = cls.env.ref("base.us")

        def person(given, sex, birthdate, uin, **values):
            return Partner.create(
                {
                    "is_registrant": True,
                    "given_name": given,
                    "family_name": SURNAME,
                    "sex": sex,
                    "birthdate": birthdate,
                    "registration_date": "2022-01-10",
                    "city": "Anytown",
                    "zip": "12345",
                    "country_id": country.id,
                    "registry_id_ids": [(0, 0, {"id_type_id": cls.uin.id, "value": uin})],
                    **values,
                }
            )

        cls.alice = person(
            "Alice", "female", "1985-05-20", "ZB-UIN-001", phone="+15550001", street="123 Main St"
        )
        cls.alice.write(
            {"registry_id_ids": [(0, 0, {"id_type_id": cls.nid.id, "value": "ZB-NID-001"})]}
        )
        cls.bob = person("Bob", "male", "1982-03-15", "ZB-UIN-002")
        cls.charlie = person("Charlie", "male", "2010-07-05", "ZB-UIN-003")
        cls.daisy = person("Daisy", "female", "2012-09-22", "ZB-UIN-004")
        cls.household = Partner.create(
            {
                "name": f"{SURNAME} household",
                "is_registrant": True,
                "is_group": True,
                "registration_date": "2022-01-10",
                "city": "Anytown",
                "registry_id_ids": [(0, 0, {"id_type_id": cls.nid.id, "value": "ZB-HH-001"})],
            }
        )
        Membership = cls.env["spp.group.membership"]
        for individual, role, relationship in (
            (cls.alice, "head", "SELF"),
            (cls.bob, "member", "SPS"),
            (cls.charlie, "member", "CHILD"),
            (cls.daisy, "member", "CHILD"),
        ):
            Membership.create(
                {
                    "group_id": cls.household.id,
                    "individual_id": individual.id,
                    "role": role,
                    "relationship": relationship,
                }
            )
        cls.env.cr.flush()  # as the fixture's commit would: its registry changes are done

    def sync_search(self, *items, **kwargs):
        response = self.post("/registry/sync/search", self.search_envelope(*items), **kwargs)
        body = self.assertSpecResponse("/registry/sync/search", response)
        return response, body

    def one(self, query_type, query, **criteria):
        """A sync search of one item; returns that item of search_response."""
        response, body = self.sync_search(self.search_item(query_type, query, **criteria))
        self.assertEqual(response.status_code, 200, body)
        self.assertEqual(body["header"]["status"], "succ", body)
        return body["message"]["search_response"][0]

    @staticmethod
    def expression(query, collection=None):
        value = {"expression": {"query": query}}
        if collection:
            value["expression"]["collection"] = collection
        return {"type": "ns:org:QueryType:expression", "value": value}

    @staticmethod
    def given_names(item):
        return [record["name"]["given_name"] for record in item["data"]["reg_records"]]


ASYNC = "/registry/search"


class AsyncCase(ConcurrencyMixin, SocialCase):
    """Asynchronous searches, their batch and send jobs, and their callbacks."""

    def ask(self, item=None):
        item = item or self.search_item("idtype-value", {"type": "UIN", "value": "ZB-UIN-002"})
        envelope = self.search_envelope(
            item, sender_uri=self.receiver.url("/spmis/registry/on-search")
        )
        response = self.post(ASYNC, envelope)
        body = self.assertSpecResponse(ASYNC, response)
        self.assertEqual((response.status_code, body["message"]["ack_status"]), (200, "ACK"))
        return self.env["spp.dci.transaction"].search(
            [("correlation_id", "=", body["message"]["correlation_id"])]
        )

    def batch_jobs(self, states=("pending",)):
        self.env.invalidate_all()
        return self.env["queue.job"].search(
            [("identity_key", "=", BATCH_IDENTITY), ("state", "in", list(states))], order="id"
        )

    def ask_for_a_dead_host(self, count):
        """``count`` async requests whose callback URL no one listens on; the URL."""
        dead = self.receiver.url("/x").replace(str(self.receiver.port), str(self.free_port()))
        item = self.search_item("idtype-value", {"type": "UIN", "value": "ZB-UIN-002"})
        for _request in range(count):
            response = self.post(ASYNC, self.search_envelope(item, sender_uri=dead))
            self.assertEqual(response.status_code, 200, response.text)
        return dead

    def send_jobs(self, states=("pending",)):
        self.env.invalidate_all()
        return self.env["queue.job"].search(
            [("method_name", "=", "_dci_send_first_attempts"), ("state", "in", list(states))],
            order="id",
        )

    def send_callbacks(self):
        """Run the pending jobs that send answered requests' callbacks; their results."""
        jobs = self.send_jobs()
        for job in jobs:
            self.run_job(job)
        return jobs.mapped("result")

    def callbacks_of(self, txn):
        return [
            r
            for r in self.receiver.requests
            if r["json"]["message"].get("correlation_id") == txn.correlation_id
        ]

    @staticmethod
    def free_port():
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]
