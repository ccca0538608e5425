"""Take the README's screenshots of the case worker's screens from a served demo.

Run by scripts/screenshots.sh (``make screenshots``), which serves a fresh demo
database. This script plays the case worker over Odoo's JSON-RPC (log in,
check the IBR and the disability registry, start a CRVS import in the
background), then drives headless Chromium over the Chrome DevTools protocol
(the session cookie of that login, a fixed window size), waits on each screen
for what it must show and writes one PNG per screen into docs/screenshots/.

    python scripts/screenshots.py --url http://127.0.0.1:8094 --db spp_dci_screens
"""

import argparse
import base64
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import date
from http.cookiejar import CookieJar
from pathlib import Path

import websocket

ROOT = Path(__file__).resolve().parent.parent
WIDTH, HEIGHT = 1440, 900
#: the registrant of the screens (and of the tour): in the demo IBR and DR
UIN = "588982005112"
DIFFERS_UIN = "226539246281"  # Sofia Panganiban Tolentino: the demo CRVS has her born a day earlier


class Odoo:
    """JSON-RPC as the web client speaks it, with the session cookie of one login."""

    def __init__(self, url, db, login, password):
        self.url = url
        self.jar = CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.ids = itertools.count(1)
        self.rpc("/web/session/authenticate", {"db": db, "login": login, "password": password})

    @property
    def session_id(self):
        return next(c.value for c in self.jar if c.name == "session_id")

    def rpc(self, path, params, timeout=600):
        body = {"jsonrpc": "2.0", "method": "call", "id": next(self.ids), "params": params}
        request = urllib.request.Request(
            self.url + path, json.dumps(body).encode(), {"Content-Type": "application/json"}
        )
        with self.opener.open(request, timeout=timeout) as response:
            answer = json.load(response)
        if answer.get("error"):
            raise SystemExit(f"{path}: {answer['error']['data']['message']}")
        return answer["result"]

    def call(self, model, method, *args, **kwargs):
        params = {"model": model, "method": method, "args": list(args), "kwargs": kwargs}
        return self.rpc(f"/web/dataset/call_kw/{model}/{method}", params)

    def button(self, model, method, ids, context=None):
        params = {"model": model, "method": method, "args": [ids], "kwargs": {}}
        if context:
            params["kwargs"]["context"] = context
        return self.rpc("/web/dataset/call_button", params)

    def ref(self, xmlid):
        module, name = xmlid.split(".")
        [row] = self.call(
            "ir.model.data",
            "search_read",
            [("module", "=", module), ("name", "=", name)],
            fields=["res_id"],
        )
        return row["res_id"]


class Chromium:
    """Headless Chromium over the DevTools protocol (one page)."""

    def __init__(self, binary):
        self.profile = tempfile.mkdtemp(prefix="spp_dci_screens_")
        port_file = Path(self.profile) / "DevToolsActivePort"
        self.process = subprocess.Popen(
            [
                binary,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--hide-scrollbars",
                "--no-first-run",
                "--remote-debugging-port=0",
                f"--user-data-dir={self.profile}",
                f"--window-size={WIDTH},{HEIGHT}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(100):
            if port_file.exists() and port_file.read_text().strip():
                break
            time.sleep(0.2)
        else:
            raise SystemExit(f"{binary} did not open its DevTools port")
        port = port_file.read_text().split()[0]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list") as response:
            page = next(t for t in json.load(response) if t["type"] == "page")
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=60)
        self.ids = itertools.count(1)
        self.send("Page.enable")
        self.send(
            "Emulation.setDeviceMetricsOverride",
            width=WIDTH,
            height=HEIGHT,
            deviceScaleFactor=1,
            mobile=False,
        )

    def login(self, url, session_id):
        """The web client's session: the cookie of the JSON-RPC login."""
        self.send("Network.setCookie", name="session_id", value=session_id, url=url)

    def send(self, method, **params):
        message_id = next(self.ids)
        self.ws.send(json.dumps({"id": message_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == message_id:
                if "error" in message:
                    raise SystemExit(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression):
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    def wait_for(self, expression, what, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.evaluate(expression):
                return
            time.sleep(0.3)
        raise SystemExit(f"timed out waiting for {what}")

    def shoot(self, url, path, ready, actions=(), settle=0.8):
        self.send("Page.navigate", url=url)
        self.wait_for(f"!!document.querySelector({json.dumps(ready)})", ready)
        for action, wait in actions:
            self.evaluate(action)
            self.wait_for(f"!!document.querySelector({json.dumps(wait)})", wait)
        # the web client is idle: no pending RPC, no spinner
        self.wait_for("!document.querySelector('.o_loading_indicator, .o_blockUI')", "idle")
        time.sleep(settle)
        shot = self.send("Page.captureScreenshot", format="png", captureBeyondViewport=False)
        path.write_bytes(base64.b64decode(shot["data"]))
        print(f"  {path.relative_to(ROOT)}")

    def close(self):
        try:
            self.ws.close()
        finally:
            self.process.terminate()
            self.process.wait(10)
            shutil.rmtree(self.profile, ignore_errors=True)


def click(selector):
    return f"document.querySelector({json.dumps(selector)}).click()"


def scroll_to(selector):
    return f"document.querySelector({json.dumps(selector)}).scrollIntoView({{block: 'end'}})"


def play_case_worker(odoo):
    """What the screens show: checks and an import, as a case worker makes them."""
    [row] = odoo.call(
        "spp.registry.id", "search_read", [("value", "=", UIN)], fields=["partner_id"]
    )
    person = row["partner_id"][0]
    # the first page of the Individuals list checked too, so its columns say something
    page = odoo.call(
        "res.partner",
        "search",
        [("is_registrant", "=", True), ("is_group", "=", False)],
        limit=80,
    )
    for method in ("action_ibr_check_enrolment", "action_dr_check_disability"):
        odoo.button("res.partner", method, [person])
        odoo.button("res.partner", method, page)
    # a background import of every birth the demo CRVS holds (pages of 2: it takes a while)
    crvs = odoo.ref("spp_dci_demo.demo_source_crvs")
    wizard = odoo.call(
        "spp.dci.crvs.import.wizard",
        "create",
        {
            "data_source_id": crvs,
            "event_type": "birth",
            "date_from": "1930-01-01",
            "date_to": date.today().isoformat(),
            "mode": "background",
        },
    )
    action = odoo.button("spp.dci.crvs.import.wizard", "action_import", [wizard])
    odoo.button("spp.dci.data.source", "action_test_connection", [crvs])
    return person, crvs, action["res_id"]


def wait_for_progress(odoo, run, low=15, high=85, timeout=300):
    """Until the background import is between ``low`` and ``high`` percent (or ended)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        [values] = odoo.call("spp.dci.crvs.import", "read", [run], ["state", "progress"])
        if values["state"] != "running" or low <= (values["progress"] or 0) <= high:
            return values
        time.sleep(0.5)
    raise SystemExit(f"the CRVS import {run} made no progress in {timeout} s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8094")
    parser.add_argument("--db", default="spp_dci_screens")
    parser.add_argument("--login", default="admin")
    parser.add_argument("--password", default="admin")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--browser", default=os.environ.get("CHROMIUM"))
    args = parser.parse_args()
    binary = args.browser or next(
        filter(None, map(shutil.which, ("chromium", "google-chrome", "chromium-browser"))), None
    )
    if not binary:
        raise SystemExit("no Chromium found: apt-get install chromium (scripts/setup.sh)")
    args.out.mkdir(parents=True, exist_ok=True)
    odoo = Odoo(args.url, args.db, args.login, args.password)
    print("Case worker: IBR and disability checks, a background CRVS import")
    person, crvs, run = play_case_worker(odoo)
    browser = Chromium(binary)
    browser.login(args.url, odoo.session_id)
    base = args.url + "/odoo"
    individuals = f"{base}/action-spp_dci.registrant_individual_action"
    try:
        print(f"Screenshots into {args.out}:")
        progress = wait_for_progress(odoo, run)
        browser.shoot(
            f"{base}/action-spp_dci_client_crvs.action_spp_dci_crvs_import/{run}",
            args.out / "crvs-import-progress.png",
            ".o_form_view .o_field_widget[name=progress]"
            if progress["state"] == "running"
            else ".o_form_view .o_field_widget[name=created_count]",
        )
        browser.shoot(individuals, args.out / "individuals.png", ".o_list_view .o_data_row")
        browser.shoot(
            f"{individuals}/{person}",
            args.out / "registrant-ibr.png",
            ".o_form_view .alert-warning",
            [
                (
                    click(".o_notebook .nav-link[name=ibr_enrolments]"),
                    ".o_field_widget[name=ibr_enrolment_ids] .o_data_row",
                )
            ],
        )
        browser.shoot(
            f"{individuals}/{person}",
            args.out / "registrant-disability.png",
            ".o_form_view .alert-warning",
            [
                (
                    click(".o_notebook .nav-link[name=dr_disability]"),
                    ".o_field_widget[name=dr_disability_info_ids] .o_data_row",
                ),
                (scroll_to(".o_field_widget[name=dr_disability_info_ids]"), ".o_notebook"),
            ],
        )
        # Verify with CRVS on someone the demo CRVS records differently (a birth date a day
        # off), born last in the population: the running import of births has not reached her
        [row] = odoo.call(
            "spp.registry.id", "search_read", [("value", "=", DIFFERS_UIN)], fields=["partner_id"]
        )
        differs = row["partner_id"][0]
        verify = ".o_form_view button[name=action_dci_verify_crvs]"
        browser.shoot(
            f"{individuals}/{differs}",
            args.out / "verify-crvs.png",
            verify,
            [(click(verify), ".modal .o_field_widget[name=line_ids] .o_data_row")],
        )
        wait_for_progress(odoo, run, low=101, high=101)  # until it ends
        browser.shoot(
            f"{base}/action-spp_dci_server.spp_dci_transaction_action",
            args.out / "server-transactions.png",
            ".o_list_view .o_data_row",
        )
        browser.shoot(
            f"{base}/action-spp_dci_client.action_spp_dci_data_source/{crvs}",
            args.out / "data-source-crvs.png",
            ".o_form_view .o_field_widget[name=base_url]",
        )
        browser.shoot(
            f"{base}/action-spp_dci_server.action_dci_overview",
            args.out / "dci-overview.png",
            ".o_form_view .oe_stat_button",
        )
        browser.shoot(
            f"{base}/action-spp_dci_client.action_spp_dci_check_run",
            args.out / "registrant-checks.png",
            ".o_list_view",
        )
    finally:
        browser.close()


if __name__ == "__main__":
    sys.exit(main())
