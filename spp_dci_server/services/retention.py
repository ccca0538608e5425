"""Retention: old DCI messages lose their payloads (or their rows), in batches, oldest first.

Payloads (whole requests, answers, callbacks) carry personal data; the rows
around them stay as the record of what was exchanged. Each kind of record has
its own retention period (a system parameter, in days; 0 keeps everything):

* ``spp_dci_server.payload_retention_days`` (90): transactions (request,
  answer and callback payloads of finished ones);
* ``spp_dci_server.inbox_retention_days``: received callbacks;
* ``spp_dci_server.notification_retention_days``: notifications sent;
  both default to the transactions' period;
* ``spp_dci_client.log_retention_days`` (90): the client's exchange log
  (whole entries are deleted).

A purge is one statement per batch, ``UPDATE/DELETE ... WHERE id IN (SELECT id
... ORDER BY <date>, id LIMIT n)``, served by an index on the date of the rows
that still hold a payload. The methods are Odoo autovacuum methods returning
``(done, remaining)``: the autovacuum cron commits after each batch, calls
again while rows remain, stops when its time budget is spent and then
reschedules itself at once, so any backlog is worked off, oldest rows first.
"""

from datetime import timedelta

from odoo import fields
from odoo.tools import SQL

DEFAULT_RETENTION_DAYS = 90
DEFAULT_BATCH_SIZE = 5000

TRANSACTION_DAYS = "spp_dci_server.payload_retention_days"
INBOX_DAYS = "spp_dci_server.inbox_retention_days"
NOTIFICATION_DAYS = "spp_dci_server.notification_retention_days"
BATCH_SIZE = "spp_dci_server.purge_batch_size"


def int_param(env, key, default):
    """An integer system parameter; ``default`` when it is unset or not a number."""
    value = env["ir.config_parameter"].sudo().get_param(key)
    try:
        return int(value) if value not in (None, False, "") else default
    except (TypeError, ValueError):
        return default


def retention_days(env, key, fallback_key=None):
    """Days to keep; ``fallback_key``'s value (else 90) when ``key`` is not set."""
    default = DEFAULT_RETENTION_DAYS
    if fallback_key:
        default = int_param(env, fallback_key, DEFAULT_RETENTION_DAYS)
    return int_param(env, key, default)


def purge_batch(model, days, *, date_column="create_date", payloads=(), where=None):
    """Purge one batch of the oldest ``model`` rows dated more than ``days`` ago.

    With ``payloads``, rows that still hold one of these columns have them set
    to NULL; without, the rows are deleted. ``where`` (an ``SQL``) narrows the
    rows further. Rows locked by a running transaction are left for the next
    batch. Returns ``(done, remaining)`` as autovacuum methods do.
    """
    if days <= 0:
        return 0, False
    env = model.env
    size = max(1, int_param(env, BATCH_SIZE, DEFAULT_BATCH_SIZE))
    model.flush_model()
    table = SQL.identifier(model._table)
    date = SQL.identifier(date_column)
    conditions = [SQL("%s < %s", date, fields.Datetime.now() - timedelta(days=days))]
    if payloads:
        # the same OR as the partial index's predicate, so that the index serves it
        held = SQL(" OR ").join(SQL("%s IS NOT NULL", SQL.identifier(c)) for c in payloads)
        conditions.append(SQL("(%s)", held))
    if where is not None:
        conditions.append(where)
    oldest = SQL(
        "SELECT id FROM %s WHERE %s ORDER BY %s, id LIMIT %s FOR UPDATE SKIP LOCKED",
        table,
        SQL(" AND ").join(conditions),
        date,
        size,
    )
    if payloads:
        cleared = SQL(", ").join(SQL("%s = NULL", SQL.identifier(c)) for c in payloads)
        env.cr.execute(SQL("UPDATE %s SET %s WHERE id IN (%s)", table, cleared, oldest))
    else:
        env.cr.execute(SQL("DELETE FROM %s WHERE id IN (%s)", table, oldest))
    done = env.cr.rowcount
    model.invalidate_model(list(payloads) or None)
    return done, done == size


def payload_index(*columns):
    """``models.Index`` definition: date and id of the rows holding one of ``columns``."""
    held = " OR ".join(f"{column} IS NOT NULL" for column in columns)
    return f"(create_date, id) WHERE {held}"
