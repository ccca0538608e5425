"""The load generator: warm-up, then N requests on C threads, with latencies and errors.

Each of the C threads opens its own client (one ``http.client`` connection,
re-opened by http.client whenever the server answers ``Connection: close``, as
Odoo does; or one PostgreSQL connection) and takes the next request number
from a shared counter until none are left, so the C clients stay busy until
the end. The warm-up requests run first on the same clients; the clock starts
when every thread has finished its warm-up (a barrier) and stops when the last
measured answer is read. Latency: from sending the request to reading the
whole answer, client time included.
"""

import http.client
import math
import statistics
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass
class Result:
    """The figures of one scenario."""

    name: str
    concurrency: int
    requests: int = 0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    rps: float = 0.0
    seconds: float = 0.0
    started: float = 0.0  # time.perf_counter() when the clock started
    client_cpu: float = 0.0  # CPU seconds of this (load generator) process while measuring
    client_wall: float = 0.0  # ... over these wall seconds (0: ``seconds``)
    errors: list = field(default_factory=list)
    latencies: list = field(default_factory=list)  # seconds, ascending (not in bench.json)
    extra: dict = field(default_factory=dict)  # more keys of the bench.json entry
    details: dict = field(default_factory=dict)  # figures reported beside the table
    stopped_early: bool = False  # too many errors

    @property
    def client_share(self):
        """The load generator's CPU use while measuring, in cores."""
        wall = self.client_wall or self.seconds
        return self.client_cpu / wall if wall > 0 else 0.0

    def row(self):
        """The bench.json entry of the scenario."""
        row = {
            "concurrency": self.concurrency,
            "p50_ms": round(self.p50_ms, 2),
            "p95_ms": round(self.p95_ms, 2),
            "rps": round(self.rps, 1),
        }
        row.update(self.extra)
        return row


def percentile(sorted_values, fraction):
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


def summarize(result, latencies, seconds):
    """Fill ``result`` from latencies (seconds) measured over ``seconds`` of wall time."""
    latencies = sorted(latencies)
    result.latencies = latencies
    result.requests = len(latencies)
    result.seconds = seconds
    if latencies:
        result.p50_ms = statistics.median(latencies) * 1000
        result.p95_ms = percentile(latencies, 0.95) * 1000
        result.rps = len(latencies) / seconds if seconds > 0 else 0.0
    return result


class HttpClient:
    """One keep-alive HTTP connection (re-opened by http.client after a close)."""

    def __init__(self, base_url, timeout=60):
        parts = urlsplit(base_url)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None):
        """``(status, body bytes)``; a failed connection is closed and raised."""
        try:
            self.connection.request(method, path, body=body, headers=headers or {})
            response = self.connection.getresponse()
            return response.status, response.read()
        except Exception:
            self.connection.close()
            raise

    def close(self):
        self.connection.close()


def merge(parts):
    """One :class:`Result` of the chunks of a scenario measured in rounds: latencies
    pooled, wall time summed (req/s = all requests / the time they took)."""
    first = parts[0]
    result = Result(first.name, first.concurrency, started=first.started)
    for part in parts:
        result.errors.extend(part.errors)
        result.client_cpu += part.client_cpu
        result.client_wall += part.client_wall or part.seconds
        result.stopped_early = result.stopped_early or part.stopped_early
    summarize(result, [x for part in parts for x in part.latencies], sum(p.seconds for p in parts))
    return result


def measure(name, concurrency, count, request, *, open_client, warmup=50, max_errors=None):
    """Run ``warmup`` + ``count`` requests on ``concurrency`` threads; return a :class:`Result`.

    ``request(client, number)`` sends request ``number`` (0 .. warmup+count-1;
    the first ``warmup`` ones are not measured) and returns None, or the text
    of an error (wrong status, wrong answer). Exceptions count as errors too.
    A scenario stops early after ``max_errors`` errors (default: a tenth).
    """
    max_errors = max_errors or max(10, count // 10)
    result = Result(name, concurrency)
    warmups = iter(range(warmup))
    numbers = iter(range(warmup, warmup + count))
    take_lock = threading.Lock()
    gate = threading.Barrier(concurrency + 1)
    latencies = [[] for _ in range(concurrency)]
    ends = [0.0] * concurrency
    errors = result.errors

    def take(counter):
        with take_lock:
            return next(counter, None)

    def attempt(client, number):
        try:
            return request(client, number)
        except Exception as exc:
            return f"{exc.__class__.__name__}: {exc}"

    def worker(slot):
        client = None
        try:
            client = open_client()
            while (number := take(warmups)) is not None:
                error = attempt(client, number)
                if error:
                    errors.append(f"warm-up: {error}")
            gate.wait()
            mine = latencies[slot]
            while len(errors) < max_errors and (number := take(numbers)) is not None:
                started = time.perf_counter()
                error = attempt(client, number)
                mine.append(time.perf_counter() - started)
                if error:
                    errors.append(error)
        except threading.BrokenBarrierError:
            return
        except Exception as exc:  # the client could not be opened: abort the scenario
            errors.append(f"{exc.__class__.__name__}: {exc}")
            gate.abort()
        finally:
            ends[slot] = time.perf_counter()
            if client is not None:
                client.close()

    threads = [threading.Thread(target=worker, args=(slot,)) for slot in range(concurrency)]
    for thread in threads:
        thread.start()
    try:
        gate.wait()
    except threading.BrokenBarrierError:
        pass
    started, cpu = time.perf_counter(), time.process_time()
    for thread in threads:
        thread.join()
    result.started, result.client_cpu = started, time.process_time() - cpu
    summarize(result, [x for chunk in latencies for x in chunk], max(ends) - started)
    result.stopped_early = len(errors) >= max_errors and result.requests < count
    return result
