"""One savepoint per answer of a batch, at one round trip per answer.

A batch job answers each claimed request in a savepoint of its own, so that a
failed answer is rolled back alone and the batch goes on. ``cr.savepoint()``
costs two round trips per answer (``SAVEPOINT``, ``RELEASE``), each of which,
in a threaded server, also waits for the interpreter lock when it returns.
:class:`AnswerSavepoints` sends the next answer's ``SAVEPOINT`` with the
previous one's ``RELEASE``, and the last ``RELEASE`` once for the batch; a
failed answer is rolled back as ``cr.savepoint()`` would (ORM cache cleared).
Releasing a savepoint also releases those opened after it (the search items'
own, see ``search_limits.py``).
"""

import contextlib
import itertools

_names = itertools.count(1)


class AnswerSavepoints:
    def __init__(self, cr):
        self.cr = cr
        self._open = None  # the previous answer's savepoint, released with the next one

    @contextlib.contextmanager
    def answer(self):
        """``with savepoints.answer():`` one answer, rolled back alone when it raises."""
        cr = self.cr
        cr.flush()  # what came before is not the answer's to roll back
        name = f"dci_answer_{next(_names)}"
        statement = f'SAVEPOINT "{name}"'
        if self._open is not None:
            statement = f'RELEASE SAVEPOINT "{self._open}"; {statement}'
        cr.execute(statement)
        self._open = name
        try:
            yield
            cr.flush()
        except BaseException:
            self._open = None
            cr.clear()
            cr.execute(f'ROLLBACK TO SAVEPOINT "{name}"; RELEASE SAVEPOINT "{name}"')
            raise

    def close(self):
        """Release the last answer's savepoint (before anything else is written)."""
        if self._open is not None:
            name, self._open = self._open, None
            self.cr.execute(f'RELEASE SAVEPOINT "{name}"')
