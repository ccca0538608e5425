"""Concurrency errors: the transaction is run again, a bounded number of times.

PostgreSQL says when a transaction may succeed if it runs again: serialization
failure, deadlock, lock not available (Odoo's
``PG_CONCURRENCY_EXCEPTIONS_TO_RETRY``); Odoo's ``ConcurrencyError`` says the
same of what the code itself finds (e.g. a row another transaction committed
after our snapshot was taken). Such an error is not a property of the record or
message being processed, and the transaction's snapshot is stale, so code that
records per-record or per-message failures lets these through
(``except RETRYABLE: raise`` before its own handling), and:

* in an HTTP request, Odoo's ``retrying()`` rolls back and runs the request
  again (5 tries, random backoff);
* in a queue job, :func:`job_retry` turns the error into queue_job's
  ``RetryableJobError``: the job is rolled back and run again after
  :data:`RETRY_SECONDS`, up to the job's ``max_retries`` (5), then it fails.
"""

from odoo.addons.queue_job.exception import RetryableJobError
from odoo.exceptions import ConcurrencyError
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY

RETRYABLE = (*PG_CONCURRENCY_EXCEPTIONS_TO_RETRY, ConcurrencyError)
#: queue_job's own delay for the concurrency errors it retries itself
RETRY_SECONDS = 5


def job_retry(exc) -> RetryableJobError:
    """The RetryableJobError a job raises for the concurrency error ``exc``."""
    reason = " ".join(str(exc).split())[:300]
    return RetryableJobError(f"{type(exc).__name__}: {reason}", seconds=RETRY_SECONDS)
