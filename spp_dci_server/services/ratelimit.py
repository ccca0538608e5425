"""Rate limits of the DCI endpoints: one module, two counters.

* Per sender, on the token and receiver paths: a sliding window kept in this
  process (:class:`SlidingWindowLimiter`). Each worker process keeps its own
  window, so with N HTTP workers a sender can make up to N times its limit
  (documented in CONFIGURE.md); no database write per request, no row lock that
  would serialise a sender's concurrent requests. (The registry paths count the
  sender's transaction rows instead, see ``auth.check_rate``.)
* Failed authentications (token endpoint: unknown client id or wrong secret;
  receiver paths: no or a bad bearer token): one row per failure in
  ``spp_dci_auth_failure``, counted per key over the last 60 s, so the limits
  hold across every worker and node. A refused (429) attempt writes nothing, so
  a key adds at most its limit of rows per minute.
"""

import hashlib
import threading
import time
from collections import OrderedDict, deque

WINDOW_SECONDS = 60.0

#: Kind of failure key -> (system parameter, default failures per 60 s; 0: no limit).
#: ``client``: token requests per client id; ``address``: token requests per source
#: address; ``callback``: unauthenticated POSTs to the receiver paths per source address.
FAILURE_LIMITS = {
    "client": ("spp_dci_server.auth_failure_limit_client", 10),
    "address": ("spp_dci_server.auth_failure_limit_address", 30),
    "callback": ("spp_dci_server.auth_failure_limit_address", 30),
}
MAX_KEY_VALUE = 128


class SlidingWindowLimiter:
    """``hit(key, limit)`` -> None when allowed, else the seconds to wait."""

    def __init__(self, window=WINDOW_SECONDS, max_keys=10000, clock=time.monotonic):
        self.window = float(window)
        self.max_keys = max_keys
        self._clock = clock
        self._lock = threading.Lock()
        self._hits = OrderedDict()

    def hit(self, key, limit):
        if not limit or limit <= 0:
            return None
        now = self._clock()
        with self._lock:
            hits = self._hits.get(key)
            if hits is None:
                hits = self._hits[key] = deque()
                if len(self._hits) > self.max_keys:
                    self._hits.popitem(last=False)
            else:
                self._hits.move_to_end(key)
            horizon = now - self.window
            while hits and hits[0] <= horizon:
                hits.popleft()
            if len(hits) >= limit:
                return max(1, int(hits[0] + self.window - now + 0.999))
            hits.append(now)
            return None

    def reset(self, key=None):
        with self._lock:
            if key is None:
                self._hits.clear()
            else:
                self._hits.pop(key, None)


#: The limiter of this process, keyed by (database, sender client_id).
limiter = SlidingWindowLimiter()


def failure_key(kind, value):
    """The key of failures of ``kind`` for ``value`` (a client id or an address)."""
    value = value or "-"
    if len(value) > MAX_KEY_VALUE:  # caller-chosen: keep keys short
        value = "sha256:" + hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()
    return f"{kind}:{value}"


def _failure_limits(env, keys):
    params = env["ir.config_parameter"].sudo()
    limits = {}
    for key in keys:
        param, default = FAILURE_LIMITS[key.split(":", 1)[0]]
        try:
            limit = int(params.get_param(param, default))
        except (TypeError, ValueError):
            limit = default
        if limit > 0:
            limits[key] = limit
    return limits


def failure_wait(env, keys):
    """Seconds to wait when a key of ``keys`` reached its failure limit, else None.

    One indexed read; ``keys`` are :func:`failure_key` values.
    """
    limits = _failure_limits(env, keys)
    if not limits:
        return None
    env.cr.execute(
        """
        SELECT key, count(*), EXTRACT(EPOCH FROM min(failed_at)
                                      - (now() AT TIME ZONE 'UTC' - make_interval(secs => %s)))
          FROM spp_dci_auth_failure
         WHERE key IN %s
           AND failed_at > now() AT TIME ZONE 'UTC' - make_interval(secs => %s)
         GROUP BY key
        """,
        (WINDOW_SECONDS, tuple(limits), WINDOW_SECONDS),
    )
    waits = [float(wait or 0) for key, count, wait in env.cr.fetchall() if count >= limits[key]]
    return max(1, int(max(waits) + 0.999)) if waits else None


def record_failure(env, keys):
    """One failure row per limited key of ``keys`` (on the request's cursor, committed with it)."""
    limited = list(_failure_limits(env, keys))
    if limited:
        env.cr.execute(
            "INSERT INTO spp_dci_auth_failure (key, failed_at) "
            "SELECT unnest(%s::varchar[]), now() AT TIME ZONE 'UTC'",
            (limited,),
        )
