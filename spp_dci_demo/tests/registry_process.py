# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
"""The demo registries served by a second Odoo process, for browser tests.

In a browser test the case worker's click is a request that the test server
answers holding the test cursor's lock; the client code then calls the demo
registry over HTTP, and the same server would need that lock again to answer:
it waits for itself. So the demo CRVS, IBR and DR are served here by a second
Odoo server on the same database and configuration (the committed demo data:
registry tables, senders, their client secrets and pinned keys), as a second
worker of a prefork deployment would serve them, and the demo data sources
point at it for the duration of the test (a write inside the test
transaction, rolled back with it).
"""

import contextlib
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from odoo.addons.spp_dci_client.client.service import JWKS_PATH, OAUTH2_TOKEN_PATH
from odoo.tools import config

BOOT_TIMEOUT = 120


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@contextlib.contextmanager
def demo_registries_served_apart(env):
    """Serve this database on a second port; yields its base URL."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = Path(tempfile.mkstemp(prefix="spp_dci_demo_registry_", suffix=".log")[1])
    command = [
        sys.executable,
        "-m",
        "odoo",
        "server",
        *(["-c", config["config"]] if config.get("config") else []),
        f"--addons-path={','.join(config['addons_path'])}",
        f"--database={env.cr.dbname}",
        f"--db_host={config['db_host'] or ''}",
        f"--db_port={config['db_port'] or ''}",
        f"--db_user={config['db_user'] or ''}",
        "--http-interface=127.0.0.1",
        f"--http-port={port}",
        # no queue_job runner: the test's jobs are its own (uncommitted) business
        "--load=base,web",
        "--workers=0",
        "--max-cron-threads=0",
        "--log-level=warn",
        f"--logfile={log}",
    ]
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + BOOT_TIMEOUT
        while not _answers(base + "/web/health"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(
                    f"the demo registry server did not start on {base}:\n"
                    + log.read_text(encoding="utf-8")[-3000:]
                )
            time.sleep(0.5)
        # /web/health answers before the database's registry is loaded: wait for a DCI
        # route too, so that the loading is over before the browser starts beside it
        crvs = env.ref("spp_dci_demo.fastapi_endpoint_dci_crvs_demo")
        while not _answers(base + crvs.root_path + JWKS_PATH):
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(
                    f"the demo registry server on {base} does not serve the demo CRVS:\n"
                    + log.read_text(encoding="utf-8")[-3000:]
                )
            time.sleep(0.5)
        for registry in ("crvs", "ibr", "dr"):
            source = env.ref(f"spp_dci_demo.demo_source_{registry}").sudo()
            endpoint = env.ref(f"spp_dci_demo.fastapi_endpoint_dci_{registry}_demo")
            root = base + endpoint.root_path
            # the token URL too: it is the registry peer's, shared with its sender's callbacks
            source.write(
                {
                    "base_url": root,
                    "callback_base_url": root,
                    "jwks_url": root + JWKS_PATH,
                    "oauth2_token_url": root + OAUTH2_TOKEN_PATH,
                }
            )
        env.flush_all()
        yield base
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.unlink(missing_ok=True)
