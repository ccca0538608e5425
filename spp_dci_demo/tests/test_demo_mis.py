# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
"""Inbound: the demo MIS (scripts/demo_search.py) searches our registries over HTTP.

The script runs as a separate process, as an external system would: it gets a
token with the demo sender's client secret, publishes its own JWKS, signs its
search and verifies our signed answer. Its raw answers are validated against
the DCI OpenAPI files.
"""

import json
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from odoo.addons.spp_dci.dci import spec
from odoo.tests import tagged

from .common import DemoCase

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "demo_search.py"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@tagged("post_install", "-at_install")
class TestDemoMis(DemoCase):
    def setUp(self):
        super().setUp()
        # The MIS publishes its JWKS on a port of its own: a free one here, so that
        # test runs in parallel do not collide on the default 8765.
        self.jwks_port = free_port()
        self.mis = self.demo("demo_sender_mis")
        self.mis.jwks_url = f"http://127.0.0.1:{self.jwks_port}/.well-known/jwks.json"
        tmp = tempfile.TemporaryDirectory(prefix="spp_dci_demo_")
        self.addCleanup(tmp.cleanup)
        self.key_path = Path(tmp.name) / "demo-mis-ed25519.pem"

    def script(self, *args, expect=0):
        command = [
            sys.executable,
            str(SCRIPT),
            "--url",
            self.base_url(),
            "--jwks-port",
            str(self.jwks_port),
            "--key",
            str(self.key_path),
            *args,
        ]
        with self.served():
            done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        self.assertEqual(done.returncode, expect, done.stdout + done.stderr)
        return done

    def search(self, *args, registry="social"):
        done = self.script("--json", "--registry", registry, *args)
        body = json.loads(done.stdout)
        spec.validate_response(registry, "/registry/sync/search", body)
        self.assertEqual(body["header"]["status"], "succ", body)
        [item] = body["message"]["search_response"]
        self.assertEqual(item["status"], "succ", item)
        return body, item

    def test_households(self):
        body, item = self.search()
        self.assertEqual(body["header"]["sender_id"], "openspp")
        self.assertEqual(body["header"]["receiver_id"], "demo-mis")
        self.assertEqual(item["data"]["reg_record_type"], "Group")
        # the three hand-made households come first (page 1), then the generated ones
        groups = {
            group["group_identifier"][0]["identifier_value"]: group
            for group in item["data"]["reg_records"]
        }
        self.assertLessEqual({"DEMO-HH-001", "DEMO-HH-002", "DEMO-HH-003"}, set(groups))
        santos = groups["DEMO-HH-001"]
        self.assertEqual(santos["address"]["locality"], "Quezon City")
        self.assertEqual(santos["group_size"], 4)
        self.assertEqual(
            santos["group_head_info"]["demographic_info"]["name"]["given_name"], "Maria"
        )
        self.assertEqual(
            sorted(m["demographic_info"]["name"]["given_name"] for m in santos["member_list"]),
            ["Ana", "Jose", "Maria", "Paolo"],
        )
        self.assertEqual(
            santos["group_identifier"],
            [{"@type": "Identifier", "identifier_type": "HHID", "identifier_value": "DEMO-HH-001"}],
        )
        # the transaction is on record, signature verified with the MIS's published key
        txn = self.env["spp.dci.transaction"].search(
            [("sender_id", "=", self.mis.id)], order="id desc", limit=1
        )
        self.assertEqual((txn.state, txn.signature_state), ("done", "verified"))

    def test_person_by_uin_and_pages(self):
        _body, item = self.search("--uin", "DEMO-UIN-0001")
        [maria] = item["data"]["reg_records"]
        self.assertEqual(maria["name"]["given_name"], "Maria")
        self.assertEqual(maria["birth_date"], "1984-03-12")
        self.assertEqual(maria["phone_number"], "+63 917 555 0101")
        _body, item = self.search("--surname", "Reyes", "--page-size", "3", "--page", "2")
        self.assertEqual(item["pagination"], {"page_size": 3, "page_number": 2, "total_count": 4})
        self.assertEqual(len(item["data"]["reg_records"]), 1)

    def test_human_output(self):
        done = self.script("--uin", "DEMO-UIN-0007")
        self.assertIn("2. Token for demo-mis", done.stdout)
        self.assertIn("signature verified", done.stdout)
        self.assertIn("Miguel Reyes [UIN DEMO-UIN-0007]", done.stdout)
        self.assertNotIn("demo-mis-DEMO-ONLY-secret", done.stdout + done.stderr)
        self.assertTrue(self.key_path.exists())
        self.assertEqual(self.key_path.stat().st_mode & 0o777, 0o600)

    def test_wrong_secret(self):
        done = self.script("--client-secret", "not-the-secret", expect=1)
        self.assertIn("Token refused (HTTP 401)", done.stderr)
        self.assertIn("err.request.unauthorized", done.stderr)
        self.assertNotIn("not-the-secret", done.stderr + done.stdout)

    def test_demo_registries(self):
        _body, item = self.search("--uin", "DEMO-UIN-0001", registry="ibr")
        [beneficiary] = item["data"]["reg_records"]
        self.assertEqual(beneficiary["programme_identifier"][0]["programme_identifier"], "CCT-01")
        self.assertEqual(beneficiary["enrollment_status"], "1")
        _body, item = self.search("--uin", "DEMO-UIN-0007", registry="dr")
        person = item["data"]["reg_records"]
        self.assertEqual((person["@type"], person["disability_status"]), ("PWD_Person", "0"))
        _body, item = self.search("--id", "DRN", "DEMO-DRN-0201", registry="crvs")
        [death] = item["data"]["reg_records"]
        self.assertEqual(death["name"]["given_name"], "Ernesto")
        self.assertTrue(death["death_date"])
