"""Answering asynchronous requests in batches: one queue job for many requests.

The ACK path writes the transaction row (``state`` received) and, after its
commit, queues a batch job unless one is waiting (queue_job's ``identity_key``
matches pending and enqueued jobs only: a started one may have claimed already).
The batch job claims received rows with ``FOR UPDATE SKIP LOCKED`` (two batch
jobs on ``root:2`` share the work; a job killed mid-batch rolls back and its
rows are claimed again), answers each, stores each answer's callback, queues the
job that sends them (:func:`deliver_first_attempts`) and the next batch job
while rows remain, and commits. The send job makes the first delivery attempt
of each callback over the shared HTTP client (its pool keeps connections per
callback host), up to ``spp_dci_server.callback_concurrency`` of them in flight
at once (``callbacks.send_batch``). A failed first attempt continues as the
per-callback delivery job (``spp.dci.delivery.mixin``: same retries, backoff,
stamping and checks).
"""

import functools
from datetime import timedelta

from psycopg2 import errors

from odoo.addons.queue_job.exception import RetryableJobError

from .answers import answer_async_transaction
from .callbacks import DeliveryError, send_batch
from .retention import int_param
from .savepoints import AnswerSavepoints
from .transactions import utc_naive_now

BATCH_IDENTITY = "spp.dci.transaction._dci_answer_queued"
DEFAULT_BATCH_SIZE = 50
#: callbacks of a batch in flight at once (``spp_dci_server.callback_concurrency``)
DEFAULT_CALLBACK_CONCURRENCY = 8
#: s an ACK's new batch job waits before it runs, gathering the requests that follow
DEFAULT_BATCH_DELAY = 1

_WAITING = """
SELECT eta FROM queue_job
 WHERE identity_key = %s AND state IN ('wait_dependencies', 'pending', 'enqueued')
 ORDER BY eta NULLS FIRST LIMIT 1
"""
_CLAIM = """
SELECT id FROM spp_dci_transaction
 WHERE state = 'received' AND mode = 'async'
 ORDER BY id LIMIT %s
   FOR UPDATE SKIP LOCKED
"""
_REMAINING = """
SELECT 1 FROM spp_dci_transaction
 WHERE state = 'received' AND mode = 'async' AND id != ALL(%s)
 LIMIT 1
"""
#: s before a batch job whose claim met another batch job's answers claims again
RECLAIM_SECONDS = 1


#: s before a known batch job's start from which an ACK looks the waiting job up again
START_MARGIN = 0.25
#: database -> start (eta, UTC) of a batch job this process knows to be waiting
_known_starts = {}


def batch_job_waiting(cr):
    """Whether a batch job waits (it claims after the caller's commit); the start of the
    first one to run is remembered once this transaction commits (:func:`known_waiting`)."""
    cr.execute(_WAITING, (BATCH_IDENTITY,))
    row = cr.fetchone()
    if row is None:
        return False
    if row[0] is not None:
        remember_start(cr, row[0])
    return True


def known_waiting(dbname):
    """Whether this process knows of a batch job that starts later than now + START_MARGIN.

    queue_job's runner starts a job at its eta, not before, and the job claims after it
    started: a row committed before then is claimed by it, so the ACKs of that moment
    need not look the job up (three round trips each). A job cancelled meanwhile leaves
    their rows to the next batch job or the daily pass (``_dci_answer_stranded``).
    """
    start = _known_starts.get(dbname)
    return start is not None and (start - utc_naive_now()).total_seconds() > START_MARGIN


def remember_start(cr, start):
    """Remember a batch job's ``start`` once ``cr`` commits (a job queued by a transaction
    that is rolled back never existed; Odoo's test cursors run no post-commit hook)."""
    cr.postcommit.add(functools.partial(_known_starts.__setitem__, cr.dbname, start))


def forget_start(dbname):
    """A batch job starts (in this process: a test's or a Run now's may start early)."""
    _known_starts.pop(dbname, None)


def batch_size(env):
    return max(1, int_param(env, "spp_dci_server.async_batch_size", DEFAULT_BATCH_SIZE))


def callback_concurrency(env):
    """How many of a batch's callbacks are sent at once (1: one after the other)."""
    return max(
        1, int_param(env, "spp_dci_server.callback_concurrency", DEFAULT_CALLBACK_CONCURRENCY)
    )


def start_after(seconds):
    """The UTC time ``seconds`` from now (the earliest start of a job queued with that eta)."""
    return utc_naive_now() + timedelta(seconds=seconds)


def batch_delay(env):
    """Seconds a batch job queued by an ACK waits (``spp_dci_server.async_batch_delay``).

    A job costs its runner dispatch and two state writes whatever it answers: a short
    wait lets the requests of the next moment join it (pending, it is the waiting job
    their ACKs find) instead of each few ACKs paying a job. 0: at once.
    """
    return max(0, int_param(env, "spp_dci_server.async_batch_delay", DEFAULT_BATCH_DELAY))


def claim(cr, size):
    """Ids of up to ``size`` received rows, locked until this job's transaction ends.

    Rows another batch job answered and committed after this job's snapshot was taken
    still look received here, and locking them is a serialization failure: nothing is
    done yet, so the job claims again a moment later, in a new snapshot.
    """
    try:
        cr.execute(_CLAIM, (size,))
    except errors.SerializationFailure as exc:
        raise RetryableJobError(
            "another batch job answered some of these requests meanwhile; claiming again",
            seconds=RECLAIM_SECONDS,
        ) from exc
    return [row[0] for row in cr.fetchall()]


def remaining(cr, claimed):
    """Whether received rows remain besides ``claimed`` (read, not locked: after its
    callbacks are sent, a batch job must not meet a serialization failure; rows another
    batch job holds count, and its follower then finds nothing)."""
    cr.execute(_REMAINING, (list(claimed),))
    return cr.fetchone() is not None


def answer(txns):
    """Answer ``txns`` (received rows this job holds): each one's reply and its stored
    callback (``delivery_state`` queued), written when the whole batch is answered."""
    savepoints = AnswerSavepoints(txns.env.cr)
    answers = [(txn, answer_async_transaction(txn, savepoints)) for txn in txns]
    savepoints.close()
    for txn, values in answers:
        # in the cache: flushed once, in one UPDATE per batch
        txn.sudo().write(values)
    return {"answered": len(answers)}


def deliver_first_attempts(txns):
    """The first attempt of the stored callbacks of ``txns`` that were never tried, sent
    together (``callbacks.send_batch``), each attempt recorded.

    A job of its own, queued by the batch job that answered them: their answers are
    committed first, so a worker killed while the callbacks go out leaves stored
    callbacks, which this job sends again when queue_job runs it again - the same
    messages under the same ``message_id``, re-deliveries a receiver recognises - never a
    second answer. A callback already tried since is skipped (its delivery job has it).
    """
    txns = txns.filtered(lambda t: t.delivery_state == "queued" and not t.delivery_attempts)
    counts = {"sent": 0, "retrying": 0, "gave up": 0, "deferred": 0}
    requests = []
    for txn in txns:
        try:
            requests.append(txn._dci_delivery_request(just_signed=True))
        except DeliveryError as exc:  # nothing it may send: recorded as the attempt's outcome
            requests.append(exc)
    results = send_batch(requests, callback_concurrency(txns.env))
    for txn, result in zip(txns, results, strict=True):
        if result is None:
            # its host did not answer this batch's first callback: not tried here
            txn._dci_delay_delivery()
            counts["deferred"] += 1
            continue
        outcome = txn._dci_record_attempt(result)
        if outcome.gave_up:
            txn._dci_list_gave_up(outcome.reason)
            counts["gave up"] += 1
        elif txn.delivery_state == "retrying":
            counts["retrying"] += 1
        else:
            counts["sent"] += 1
    return counts


def summary(counts, nothing="nothing to answer"):
    """The job's result: what it did, in counts (``nothing`` when it did nothing)."""
    return (
        ", ".join(
            f"{value} {name}" if isinstance(value, int) else str(value)
            for name, value in counts.items()
            if value
        )
        or nothing
    )
