"""The figures of a run: the bench.json document, the printed table and the targets.

A run (both servers, one invocation of bench_search.py) is one JSON document:
``{"registrants": N, "scenarios": {name: {"concurrency", "p50_ms", "p95_ms",
"rps"}}, "runs": {name: {"requests", "errors", "seconds"}}, "callbacks": {...},
"targets": [...]}``. The targets are computed from the
scenarios of that document only, so from the same run.
"""

import json
import os

ORDER = [
    "trivial_route_c1",
    "dci_sync_search_c1",
    "sql_lookup_c1",
    "dci_async_search_c1",
    "trivial_route_c1_w2",
    "dci_async_search_c1_w2",
    "trivial_route_c8",
    "dci_sync_search_c8",
    "sql_lookup_c8",
    "dci_async_callbacks",
    "trivial_route_w2",
    "dci_sync_search_w2",
    "dci_async_callbacks_w2",
]


def load(path):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def save(doc, path):
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(doc, handle, indent=2)
        handle.write("\n")
    os.replace(tmp, path)


def add_results(doc, results):
    """Merge :class:`load.Result` objects into the run document."""
    scenarios = doc.setdefault("scenarios", {})
    runs = doc.setdefault("runs", {})
    for result in results:
        scenarios[result.name] = result.row()
        runs[result.name] = {
            "requests": result.requests,
            "errors": len(result.errors),
            "seconds": round(result.seconds, 2),
            "client_cpu": round(result.client_share, 3),
        }
        if result.errors:
            runs[result.name]["first_errors"] = result.errors[:3]
        if result.stopped_early:
            runs[result.name]["stopped_early"] = True
        if result.details:
            doc["callbacks_w2" if result.name.endswith("_w2") else "callbacks"] = result.details


def _get(scenarios, name, key):
    row = scenarios.get(name)
    return None if row is None else row.get(key)


def _over(p50, trivial):
    """A millisecond target's figure, with the same p50s as a ratio: the gap in ms moves
    with the shared machine's speed, the ratio much less (README, Performance)."""
    return f"{p50 - trivial:+.2f} ms (x{p50 / trivial:.2f})"


def targets(doc):
    """``[{"id", "target", "value", "pass"}]``; ``pass`` is None when a figure is missing."""
    s = doc.get("scenarios", {})
    checks = []

    def check(ident, text, figures, compute):
        if any(value is None for value in figures):
            checks.append({"id": ident, "target": text, "value": None, "pass": None})
            return
        value, passed = compute(*figures)
        checks.append({"id": ident, "target": text, "value": value, "pass": passed})

    trivial_c1 = _get(s, "trivial_route_c1", "p50_ms")
    check(
        "1",
        "p50(dci_sync_search_c1) <= p50(trivial_route_c1) + 4 ms",
        [_get(s, "dci_sync_search_c1", "p50_ms"), trivial_c1],
        lambda dci, trivial: (_over(dci, trivial), dci <= trivial + 4),
    )
    check(
        "2",
        "rps(dci_sync_search_c8) >= 0.5 x rps(trivial_route_c8)",
        [_get(s, "dci_sync_search_c8", "rps"), _get(s, "trivial_route_c8", "rps")],
        lambda dci, trivial: (f"x{dci / trivial:.2f}", dci >= 0.5 * trivial),
    )
    check(
        "3",
        "rps(dci_sync_search_w2) >= 1.4 x rps(dci_sync_search_c8)",
        [_get(s, "dci_sync_search_w2", "rps"), _get(s, "dci_sync_search_c8", "rps")],
        lambda w2, c8: (f"x{w2 / c8:.2f}", w2 >= 1.4 * c8),
    )
    check(
        "5a",
        "p50(dci_async_search_c1) <= p50(trivial_route_c1) + 4 ms",
        [_get(s, "dci_async_search_c1", "p50_ms"), trivial_c1],
        lambda ack, trivial: (_over(ack, trivial), ack <= trivial + 4),
    )
    check(
        "5a-w2",
        "p50(dci_async_search_c1_w2) <= p50(trivial_route_c1_w2) + 4 ms (prefork)",
        [_get(s, "dci_async_search_c1_w2", "p50_ms"), _get(s, "trivial_route_c1_w2", "p50_ms")],
        lambda ack, trivial: (_over(ack, trivial), ack <= trivial + 4),
    )
    check(
        "5b",
        "callbacks_per_s(dci_async_callbacks) >= 100 (threaded)",
        [_get(s, "dci_async_callbacks", "callbacks_per_s")],
        lambda rate: (f"{rate:.1f}/s", rate >= 100),
    )
    check(
        "5b-w2",
        "callbacks_per_s(dci_async_callbacks_w2) >= 100 (prefork)",
        [_get(s, "dci_async_callbacks_w2", "callbacks_per_s")],
        lambda rate: (f"{rate:.1f}/s", rate >= 100),
    )
    return checks


def print_report(doc):
    scenarios = doc.get("scenarios", {})
    runs = doc.get("runs", {})
    names = [n for n in ORDER if n in scenarios] + [n for n in scenarios if n not in ORDER]
    print()
    print(f"{doc.get('registrants', 0):,} registrants")
    print(
        f"{'scenario':24} {'conc.':>5} {'p50 ms':>9} {'p95 ms':>9} {'req/s':>9} {'n':>6} "
        f"{'client CPU':>10}"
    )
    for name in names:
        row, run = scenarios[name], runs.get(name, {})
        cpu = f"{run['client_cpu']:.0%}" if "client_cpu" in run else "-"
        print(
            f"{name:24} {row['concurrency']:>5} {row['p50_ms']:9.2f} {row['p95_ms']:9.2f} "
            f"{row['rps']:9.1f} {run.get('requests', 0):>6} {cpu:>10}"
        )
    print("(client CPU: the load generator's CPU time over the measured wall time, in cores)")
    pairs = (("callbacks", "dci_async_callbacks"), ("callbacks_w2", "dci_async_callbacks_w2"))
    for key, name in pairs:
        callbacks = doc.get(key)
        if callbacks:
            print(
                f"{name}: "
                "{received}/{sent} callbacks received, {callbacks_per_s}/s from "
                "first to last callback ({first_to_last_s} s); first send to last callback "
                "{first_send_to_last_callback_s} s ({end_to_end_per_s}/s end to end); "
                "sending took {send_seconds} s "
                "(ACK p50 {ack_p50_ms} ms); p50/p95 above: ACK -> callback".format(**callbacks)
            )
    rounds = doc.get("settings", {}).get("rounds")
    if rounds:
        print(f"(compared scenarios interleaved in {rounds} rounds)")
    print()
    for check in targets(doc):
        verdict = {True: "PASS", False: "FAIL", None: "n/a "}[check["pass"]]
        value = check["value"] if check["value"] is not None else "(not measured)"
        print(f"  target {check['id']:3} {verdict}  {check['target']}: {value}")


def error_lines(doc):
    """``scenario: N errors (first: ...)`` for every scenario with errors."""
    lines = []
    for name, run in doc.get("runs", {}).items():
        if run.get("errors"):
            first = "; ".join(run.get("first_errors", []))
            stopped = ", scenario stopped early" if run.get("stopped_early") else ""
            lines.append(f"{name}: {run['errors']} errors{stopped} (first: {first})")
    return lines
