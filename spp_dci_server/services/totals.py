"""``total_count`` of a paged search, counted once per search instead of on every page.

DCI pages are numbered (``page_number``), so each page is a new request with the
same criteria; every page's ``pagination`` must carry ``total_count``. Counting
all matches is the expensive part of a broad search, so a count is kept in
this process for :data:`TTL` seconds, keyed by database, model and the final
domain (criteria, record type base domain and the endpoint user's companies):
the next pages of the same search reuse it. A page that is not full needs no
count at all (its offset plus its records is the total). A total may so lag
changes by up to :data:`TTL` seconds, as page boundaries do anyway while records
change between requests.
"""

import threading
import time
from collections import OrderedDict

#: seconds a count is reused
TTL = 120.0
#: searches remembered per process
MAX_ENTRIES = 1024


class TotalCounts:
    def __init__(self, ttl=TTL, max_entries=MAX_ENTRIES, clock=time.monotonic):
        self.ttl = ttl
        self.max_entries = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        self._counts = OrderedDict()

    def count(self, model, domain):
        """``model.search_count(domain)``, or the count made for it less than TTL ago."""
        key = (model.env.cr.dbname, model._name, repr(domain))
        now = self._clock()
        with self._lock:
            cached = self._counts.get(key)
            if cached is not None and cached[1] > now:
                self._counts.move_to_end(key)
                return cached[0]
        total = model.search_count(domain)
        with self._lock:
            self._counts[key] = (total, now + self.ttl)
            self._counts.move_to_end(key)
            while len(self._counts) > self.max_entries:
                self._counts.popitem(last=False)
        return total

    def clear(self):
        with self._lock:
            self._counts.clear()


#: The counts of this process.
totals = TotalCounts()
