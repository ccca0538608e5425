"""Stored callbacks that no queue job will send any more (the cron's sweep).

A callback waiting to go out (``delivery_state`` queued or retrying) is always
committed together with the job that sends it: its batch's send job
(``_dci_send_first_attempts``) or its own delivery job (``_dci_deliver``). When
no such job is live any more, nothing would send it and it would show *Queued*
for ever. The sweep finds these deliveries (the live jobs are few and indexed on
their state, so a sweep with nothing to do costs one small query) and decides
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
STOPPED_STATES = ("cancelled", "failed")

#: a job's record ids: queue_job stores its ``records`` as JSON text in a jsonb column
_JOB_IDS = """(CASE jsonb_typeof(j.records) WHEN 'string' THEN (j.records #>> '{}')::jsonb
                ELSE j.records END) -> 'ids'"""
#: waiting deliveries that no live job covers (the live jobs: few, on the state index)
_STRANDED = f"""
WITH live AS (
    SELECT ids.id::int AS id
      FROM queue_job j CROSS JOIN LATERAL jsonb_array_elements_text({_JOB_IDS}) AS ids(id)
     WHERE j.state IN %s AND j.model_name = %s AND j.method_name = ANY(%s)
)
SELECT t.id FROM %s t
 WHERE t.delivery_state IN ('queued', 'retrying') AND t.write_date < %s
   AND NOT EXISTS (SELECT 1 FROM live WHERE live.id = t.id)
 ORDER BY t.id LIMIT %s
"""
_LAST_JOBS = f"""
SELECT DISTINCT ON (ids.id::int) ids.id::int, j.state, j.uuid
  FROM queue_job j CROSS JOIN LATERAL jsonb_array_elements_text({_JOB_IDS}) AS ids(id)
 WHERE j.model_name = %s AND j.method_name = ANY(%s) AND ids.id::int = ANY(%s)
 ORDER BY ids.id::int, j.id DESC
"""


def stranded(model, methods, older_than, limit=500):
    """``{id: (last job state or None, its uuid or None)}`` of ``model``'s deliveries
    waiting to go out, last written before ``older_than``, that no live job of
    ``methods`` covers."""
    model.flush_model(["delivery_state"])
    cr = model.env.cr
    methods = list(methods)
    table = SQL.identifier(model._table)
    cr.execute(SQL(_STRANDED, LIVE_STATES, model._name, methods, table, older_than, limit))
    lost = [row[0] for row in cr.fetchall()]
    if not lost:
        return {}
    cr.execute(SQL(_LAST_JOBS, model._name, methods, lost))
    last = {row[0]: (row[1], row[2]) for row in cr.fetchall()}
    return {i: last.get(i, (None, None)) for i in lost}


def stopped_reason(state, uuid):
    """The ``delivery_last_error`` of a delivery whose last job ended ``state``."""
    return (
        f"its delivery job was {state} in the Job Queue ({uuid}); "
        "nothing was sent since: Retry sends it again"
    )
