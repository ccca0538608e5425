"""A time limit per search item: ``SET LOCAL statement_timeout`` in a savepoint.

Each search item (its search, count and serialisation queries) runs in a
savepoint of the cursor it reads on, with PostgreSQL's ``statement_timeout``
set to the endpoint's *Search Time Limit*. A statement that
runs longer is cancelled by PostgreSQL; the item's savepoint is rolled back and
the item is answered
``rjct.search.too_many_records_found`` (the closest code of the spec's
SearchStatusReasonCode list: the search as asked is too costly; narrow it).
The other items of the message go on, and the request's cursor is intact for
its transaction row.

The savepoint and timeout are not a round trip of their own: they go with the
item's first statement (an identifier lookup sends them with its one SELECT), or
right before its ORM search; an item refused before any statement sends neither.
On success nothing more is sent: the item's savepoint is released with the next
item's ``SAVEPOINT`` (one open at a time), the last one ends with the read
transaction, and the timeout applies to the few statements that follow (the
transaction row, a queued job), which take milliseconds - hence a minimum of
100 ms for the setting.
"""

import contextvars
import itertools

from psycopg2 import errors

from odoo.addons.spp_dci.dci.codes import SearchStatusReasonCode
from odoo.addons.spp_dci.dci.errors import DCIError
from odoo.tools import SQL

_names = itertools.count(1)
#: The TimeLimit of the search item being answered (its savepoint not sent yet).
_current = contextvars.ContextVar("dci_search_time_limit", default=None)


class TimeLimit:
    """``with limit:`` runs one search item under the statement timeout (0: none).

    One instance per message; a timeout raises the item's DCIError. The savepoint and
    timeout go with the item's first statement (:func:`first_statement`) or, when the
    search goes through the ORM, alone right before it (:func:`begin`).
    """

    def __init__(self, env, milliseconds):
        self.env = env
        self.milliseconds = int(milliseconds or 0)
        self._open = None  # the savepoint of the previous item, released by the next one
        self._start = None  # this item's savepoint and timeout, until they are sent
        self._token = None

    def __enter__(self):
        if self.milliseconds <= 0:
            return self
        self.env.flush_all()  # nothing of the caller's may be written, then rolled back, here
        name = SQL.identifier(f"dci_search_{next(_names)}")
        start = SQL("SAVEPOINT %s; SET LOCAL statement_timeout = %s", name, self.milliseconds)
        if self._open is not None:
            start = SQL("RELEASE SAVEPOINT %s; %s", self._open, start)
        self._start = (name, start)
        self._token = _current.set(self)
        return self

    def statement(self, sql):
        """``sql``, preceded by the savepoint and timeout when they are not sent yet."""
        if self._start is None:
            return sql
        (self._open, start), self._start = self._start, None
        return SQL("%s; %s", start, sql) if sql is not None else start

    def __exit__(self, exc_type, exc, traceback):
        if self.milliseconds <= 0:
            return False
        _current.reset(self._token)
        if self._start is not None:  # the item sent nothing: no savepoint to end
            self._start = None
            return False
        if exc_type is None:
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


def first_statement(cr, sql):
    """``sql`` with the current search item's savepoint and timeout in front (one round
    trip), when they are still to be sent on ``cr``; else ``sql`` as it is."""
    limit = _current.get()
    if limit is None or limit.env.cr is not cr:
        return sql
    return limit.statement(sql)


def begin(cr):
    """Send the current search item's savepoint and timeout on ``cr`` now (ORM searches)."""
    sql = first_statement(cr, None)
    if sql is not None:
        cr.execute(sql)
