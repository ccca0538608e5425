"""Per-sender rate limiting: a sliding window kept in this process.

Each worker process keeps its own window, so with N HTTP workers a sender can
make up to N times its limit (documented in CONFIGURE.md). The window lives in
memory only: no database write per request, no row lock that would serialise a
sender's concurrent requests.
"""

import threading
import time
from collections import OrderedDict, deque

WINDOW_SECONDS = 60.0


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
