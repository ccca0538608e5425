# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
"""The screens in a real browser (headless Chromium, Odoo's own test browser)."""

import uuid

from odoo.tests import HttpCase, tagged

#: Waits for a selector, then runs ``check(element)``: 'test successful' or an error.
WAIT_AND_CHECK = """
const waitFor = (selector) => new Promise((resolve, reject) => {
    let tries = 0;
    const timer = setInterval(() => {
        const element = document.querySelector(selector);
        if (element && (element.tagName === "CANVAS" || element.innerText.trim())) {
            clearInterval(timer);
            resolve(element);
        } else if (++tries > 200) {
            clearInterval(timer);
            reject(new Error("nothing at " + selector + " in " + document.body.innerText));
        }
    }, 100);
});
waitFor(%(selector)r).then((element) => {
    const text = element.innerText;
    const problem = (%(check)s)(text);
    if (problem) {
        console.error(problem + ": " + text);
    } else {
        console.log("test successful");
    }
}).catch((error) => console.error(error.message));
"""


@tagged("post_install", "-at_install")
class TestScreensInBrowser(HttpCase):
    def check_page(self, url, selector, check):
        code = WAIT_AND_CHECK % {"selector": selector, "check": check}
        self.browser_js(url, code, login="admin", timeout=90)

    def test_transaction_payload_is_readable_json(self):
        sender = self.env.ref("spp_dci_demo.demo_sender_mis")
        txn = self.env["spp.dci.transaction"].create(
            {
                "action": "search",
                "mode": "sync",
                "state": "done",
                "correlation_id": str(uuid.uuid4()),
                "sender_id": sender.id,
                "request_payload": {"header": {"message_id": "browser-m-1"}, "message": {}},
            }
        )
        self.check_page(
            f"/odoo/action-spp_dci_server.spp_dci_transaction_action/{txn.id}",
            ".o_field_widget[name=request_payload_text] .ace_content",
            """(text) => text.includes("[object Object]") ? "a Json value given to the editor"
                : !text.includes('"message_id": "browser-m-1"') ? "not the indented JSON" : null""",
        )

    def test_overview_opens_first(self):
        self.check_page(
            "/odoo/action-spp_dci_server.action_dci_overview",
            ".o_form_view",
            """(text) => !text.includes("Served (7 days)") ? "no served count"
                : !text.includes("Callbacks failed") ? "no failed callbacks"
                : !text.includes("Demo CRVS (this OpenSPP") ? "no data source's last test"
                : !text.includes("CRVS imports") ? "no CRVS imports" : null""",
        )

    def test_screens_open_without_errors(self):
        """Each screen of the case worker and the programme officer renders (no JS error)."""
        head = self.env.ref("spp_dci_demo.demo_group_santos").group_head_id
        source = self.env.ref("spp_dci_demo.demo_source_crvs")
        pages = [
            # (url, selector, text it must show)
            ("/odoo/action-spp_dci.registrant_group_action", ".o_list_table", "Members"),
            ("/odoo/action-spp_dci.registrant_individual_action", ".o_list_table", "Household"),
            (f"/odoo/action-spp_dci.registrant_individual_action/{head.id}", ".o-mail-Chatter", ""),
            (
                f"/odoo/action-spp_dci_client.action_spp_dci_data_source/{source.id}",
                ".o-mail-Chatter",
                "",
            ),
            (
                "/odoo/action-spp_dci_server.action_spp_dci_request_report",
                ".o_graph_renderer canvas",
                "",
            ),
            (
                "/odoo/action-spp_dci_server.action_spp_dci_request_report_pivot",
                ".o_pivot table",
                "",
            ),
            (
                "/odoo/action-spp_dci_client.action_spp_dci_client_exchange_log",
                ".o_list_table",
                "",
            ),
            ("/odoo/action-spp_dci_server.spp_dci_sender_action", ".o_list_table", "Requests"),
        ]
        for url, selector, text in pages:
            with self.subTest(url=url):
                self.check_page(
                    url, selector, f"(text) => text.includes({text!r}) ? null : 'no {text}'"
                )
