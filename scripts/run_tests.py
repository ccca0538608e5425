"""Run Odoo's own test runner in-process and close with a pytest-style summary.

Odoo starts its HTTP server (so HttpCase tests talk to Odoo over real HTTP),
installs the requested modules with --test-enable, runs at_install and
post_install tests, and keeps the counts in the registry's assertion report.
We read that report instead of scraping logs and print one line that CI
understands: ``N passed, N failed, N skipped``. A skipped test fails the run.
"""

import sys

from odoo.modules.registry import Registry
from odoo.service import server
from odoo.tools import config


def main(argv):
    config.parse_config(argv, setup_logging=True)
    (db_name,) = config["db_name"]
    rc = server.start(preload=[db_name], stop=True)
    registry = Registry.registries.get(db_name)
    report = registry and registry._assertion_report
    if not report or not report.testsRun:
        print("no tests ran (see the log above)", flush=True)
        return rc or 1
    failed = report.failures_count + report.errors_count
    passed = report.testsRun - failed - report.skipped
    print(f"\n{passed} passed, {failed} failed, {report.skipped} skipped", flush=True)
    if report.skipped:
        # a skipped test is one that did not run (e.g. no browser for the tour): not a pass
        print("error: skipped tests count as failures (see the log for why)", flush=True)
    return 1 if (rc or failed or report.skipped) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
