"""The Odoo server under test: started as `make run` serves it, killed, restarted.

The server runs in its own process group (``bash scripts/run.sh`` execs Odoo),
so a kill reaches Odoo and every thread or child it has, the way a crash or an
OOM kill would: no shutdown code runs.
"""

import os
import signal
import subprocess
import time
import urllib.request

import psutil

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Server:
    def __init__(self, db, port, log_path):
        self.db = db
        self.port = port
        self.log_path = log_path
        self.process = None
        self.starts = 0

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout=900):
        env = {**os.environ, "DB": self.db, "HTTP_PORT": str(self.port)}
        log = open(self.log_path, "a")
        log.write(f"\n===== start {self.starts + 1} =====\n")
        log.flush()
        self.process = subprocess.Popen(
            ["bash", os.path.join(ROOT, "scripts", "run.sh")],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.starts += 1
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"the server stopped at start (see {self.log_path})")
            try:
                with urllib.request.urlopen(f"{self.url}/web/login", timeout=5):
                    return
            except OSError:
                time.sleep(1)
        raise SystemExit(f"the server did not answer within {timeout} s (see {self.log_path})")

    def kill(self):
        """SIGKILL the whole process group: nothing gets to clean up."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()

    def rss_mb(self):
        """Resident memory of the server and its children, in MB."""
        try:
            root = psutil.Process(self.process.pid)
            processes = [root, *root.children(recursive=True)]
            return sum(p.memory_info().rss for p in processes if p.is_running()) / 2**20
        except psutil.NoSuchProcess:
            return 0.0
