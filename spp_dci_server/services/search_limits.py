"""A time limit per search item: ``SET LOCAL statement_timeout`` in a savepoint.

Each search item (its search, count and serialisation queries) runs in a
savepoint of the cursor it reads on, with PostgreSQL's ``statement_timeout``
set to the endpoint's *Search Time Limit*, in one round trip. A statement that
runs longer is cancelled by PostgreSQL; the item's savepoint is rolled back and
the item is answered
``rjct.search.too_many_records_found`` (the closest code of the spec's
SearchStatusReasonCode list: the search as asked is too costly; narrow it).
The other items of the message go on, and the request's cursor is intact for
its transaction row.

On success nothing more is sent: the item's savepoint is released with the
next item's ``SAVEPOINT`` (one open at a time), the last one ends with the read
transaction, and the timeout applies to the few statements that follow (the
transaction row, a queued job), which take milliseconds - hence a minimum of
100 ms for the setting.
"""

import itertools

from psycopg2 import errors

from odoo.addons.spp_dci.dci.codes import SearchStatusReasonCode
from odoo.addons.spp_dci.dci.errors import DCIError
from odoo.tools import SQL

_names = itertools.count(1)


class TimeLimit:
    """``with limit:`` runs one search item under the statement timeout (0: none).

    One instance per message; a timeout raises the item's DCIError.
    """

    def __init__(self, env, milliseconds):
        self.env = env
        self.milliseconds = int(milliseconds or 0)
        self._open = None  # the savepoint of the previous item, released by the next one

    def __enter__(self):
        if self.milliseconds <= 0:
            return self
        self.env.flush_all()  # nothing of the caller's may be written, then rolled back, here
        name = SQL.identifier(f"dci_search_{next(_names)}")
        start = SQL("SAVEPOINT %s; SET LOCAL statement_timeout = %s", name, self.milliseconds)
        if self._open is not None:
            start = SQL("RELEASE SAVEPOINT %s; %s", self._open, start)
        self.env.cr.execute(start)
        self._open = name
        return self

    def __exit__(self, exc_type, exc, traceback):
        if self.milliseconds <= 0 or exc_type is None:
            return False
        name, self._open = self._open, None
        self.env.cr.execute(SQL("ROLLBACK TO SAVEPOINT %s; RELEASE SAVEPOINT %s", name, name))
        if isinstance(exc, errors.QueryCanceled):
            raise DCIError(
                SearchStatusReasonCode.SEARCH_TOO_MANY_RECORDS_FOUND,
                f"the search did not finish within {self.milliseconds} ms; narrow it "
                "(more selective attributes, a date range, a smaller page)",
            ) from exc
        return False
