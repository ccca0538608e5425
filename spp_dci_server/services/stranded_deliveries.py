"""Stored callbacks that no queue job will send any more (the cron's sweep).

A callback waiting to go out (``delivery_state`` queued or retrying) is always
committed together with the job that sends it: its batch's send job
(``_dci_send_first_attempts``) or its own delivery job (``_dci_deliver``). When
no such job is live any more, nothing would send it and it would show *Queued*
for ever. The sweep finds these deliveries (the live jobs are few and indexed on
their state, so a sweep with nothing to do costs two small queries) and decides
by the last job that covered each:

- cancelled (an administrator stopped it in the Job Queue) or failed (its on-fail
  hook never ran): the delivery is written ``failed`` with that reason. Nothing
  is sent; the Retry button starts a new series, as for any failed delivery;
- none at all, or done while the callback still waits (its job was deleted, or
  a database restored without its jobs): a delivery job is queued again. It sends
  the stored message under its ``message_id``: a receiver that already has it
  recognises the re-delivery.
"""

from odoo.tools import SQL

LIVE_STATES = ("wait_dependencies", "pending", "enqueued", "started")
#: the last job's states in which a delivery stays stopped (written ``failed``)
STOPPED_STATES = {"cancelled": "cancelled", "failed": "failed"}

#: a job's record ids: queue_job stores its ``records`` as JSON text in a jsonb column
_JOB_IDS = """(CASE jsonb_typeof(j.records) WHEN 'string' THEN (j.records #>> '{}')::jsonb
                ELSE j.records END) -> 'ids'"""
_LIVE_IDS = f"""
SELECT DISTINCT ids.id::int
  FROM queue_job j CROSS JOIN LATERAL jsonb_array_elements_text({_JOB_IDS}) AS ids(id)
 WHERE j.state IN %s AND j.model_name = %s AND j.method_name = ANY(%s)
"""
_LAST_JOBS = f"""
SELECT DISTINCT ON (ids.id::int) ids.id::int, j.state, j.uuid
  FROM queue_job j CROSS JOIN LATERAL jsonb_array_elements_text({_JOB_IDS}) AS ids(id)
 WHERE j.model_name = %s AND j.method_name = ANY(%s) AND ids.id::int = ANY(%s)
 ORDER BY ids.id::int, j.id DESC
"""


def waiting(model, older_than, limit):
    """Ids of ``model``'s deliveries waiting to go out, last written before ``older_than``."""
    model.flush_model(["delivery_state"])
    model.env.cr.execute(
        SQL(
            "SELECT id FROM %s WHERE delivery_state IN ('queued', 'retrying') "
            "AND write_date < %s ORDER BY id LIMIT %s",
            SQL.identifier(model._table),
            older_than,
            limit,
        )
    )
    return [row[0] for row in model.env.cr.fetchall()]


def stranded(model, methods, older_than, limit=500):
    """``{id: (last job state or None, its uuid or None)}`` of ``model``'s waiting
    deliveries that no live job of ``methods`` covers."""
    ids = waiting(model, older_than, limit)
    if not ids:
        return {}
    cr = model.env.cr
    cr.execute(_LIVE_IDS, (LIVE_STATES, model._name, list(methods)))
    covered = {row[0] for row in cr.fetchall()}
    lost = [i for i in ids if i not in covered]
    if not lost:
        return {}
    cr.execute(_LAST_JOBS, (model._name, list(methods), lost))
    last = {row[0]: (row[1], row[2]) for row in cr.fetchall()}
    return {i: last.get(i, (None, None)) for i in lost}


def stopped_reason(state, uuid):
    """The ``delivery_last_error`` of a delivery whose last job ended ``state``."""
    return (
        f"its delivery job was {STOPPED_STATES[state]} in the Job Queue ({uuid}); "
        "nothing was sent since: Retry sends it again"
    )
