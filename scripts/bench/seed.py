"""Benchmark data: registrants seeded in plain SQL, the benchmark sender through the ORM.

Both are idempotent: registrants ``BENCH-1`` .. ``BENCH-N`` (one UIN each) are
only added when missing, and the sender ``dci-bench`` is rewritten on every
run (new key pair, secret, callback host of this run's receiver).
"""

import time

import psycopg2

PREFIX = "BENCH-"
CLIENT_ID = "dci-bench"
SECRET = "bench-secret-" + "x" * 32
SEED_STEP = 100_000


def pg_connect(db):
    """A connection to ``db`` (host, port and user from the PG* environment)."""
    return psycopg2.connect(dbname=db)


def seed_registrants(db, count):
    """Insert the missing BENCH registrants; return ``(UIN type id, registrants present)``."""
    with pg_connect(db) as conn, conn.cursor() as cr:
        cr.execute("SELECT id FROM spp_id_type WHERE code = 'UIN'")
        uin = cr.fetchone()[0]
        cr.execute(
            "SELECT count(*) FROM spp_registry_id WHERE id_type_id = %s AND value LIKE %s",
            (uin, PREFIX + "%"),
        )
        have = cr.fetchone()[0]
        if have >= count:
            print(f"seed: {have:,} benchmark registrants already present")
            return uin, have
        started = time.monotonic()
        for low in range(have + 1, count + 1, SEED_STEP):
            high = min(count, low + SEED_STEP - 1)
            cr.execute(
                """
                WITH new AS (
                    INSERT INTO res_partner (name, complete_name, given_name, family_name, sex,
                        birthdate, registration_date, is_registrant, is_group, active, type,
                        is_company, city, create_uid, write_uid, create_date, write_date)
                    SELECT 'Bench ' || n, 'Bench ' || n, 'Given' || n, 'Bench',
                           (ARRAY['male', 'female'])[1 + n %% 2], DATE '1950-01-01' + (n %% 25000),
                           DATE '2020-01-01' + (n %% 1500), true, false, true, 'contact', false,
                           'Benchtown', 1, 1, now() AT TIME ZONE 'utc', now() AT TIME ZONE 'utc'
                      FROM generate_series(%s, %s) AS n
                    RETURNING id, given_name
                )
                INSERT INTO spp_registry_id (partner_id, id_type_id, value, create_uid, write_uid,
                                             create_date, write_date)
                SELECT id, %s, %s || substr(given_name, 6), 1, 1, now() AT TIME ZONE 'utc',
                       now() AT TIME ZONE 'utc'
                  FROM new
                """,
                (low, high, uin, PREFIX),
            )
            conn.commit()
            print(f"seed: {high:,}/{count:,} registrants ({time.monotonic() - started:.0f} s)")
        cr.execute(
            "UPDATE res_partner SET commercial_partner_id = id WHERE commercial_partner_id IS NULL"
        )
    vacuum(db, ("res_partner", "spp_registry_id"))
    return uin, count


def vacuum(db, tables):
    """VACUUM (ANALYZE) ``tables``: the seed's UPDATE left a dead version of every new row,
    which autovacuum would otherwise clean up in the middle of a fresh database's first run.
    Its own connection: VACUUM runs outside a transaction, and psycopg2's ``with conn``
    opens one even in autocommit mode."""
    started = time.monotonic()
    conn = pg_connect(db)
    try:
        conn.autocommit = True
        with conn.cursor() as cr:
            for table in tables:
                cr.execute(f"VACUUM (ANALYZE) {table}")
    finally:
        conn.close()
    print(f"seed: {', '.join(tables)} vacuumed and analyzed ({time.monotonic() - started:.0f} s)")


#: What an idtype-value lookup and its transaction row read: tables and all their indexes
#: (res_partner: the table and its primary key; its other indexes serve other searches).
WARM = {
    "res_partner": ("res_partner", "res_partner_pkey"),
    "spp_registry_id": None,
    "spp_dci_transaction": None,
}


def warm_cache(db):
    """Load the relations a lookup reads into the OS page cache (``pg_prewarm``).

    The benchmark measures the pipeline of a registry in service, whose working set
    is in memory; the first read of a page from this machine's disk costs
    milliseconds (1,000,000 registrants are about 550 MB). Without the extension
    (not a superuser), a sequential read of the tables warms the heaps only.
    """
    started = time.monotonic()
    with pg_connect(db) as conn, conn.cursor() as cr:
        relations = []
        for table, names in WARM.items():
            if names is None:
                cr.execute(
                    "SELECT %s UNION ALL SELECT indexname FROM pg_indexes WHERE tablename = %s",
                    (table, table),
                )
                names = [row[0] for row in cr.fetchall()]
            relations.extend(names)
        try:
            cr.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
            cr.execute(
                "SELECT sum(pg_prewarm(c.oid, 'read')) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND c.relname = ANY(%s)",
                (relations,),
            )
            blocks = cr.fetchone()[0] or 0
            conn.commit()
            how = f"{blocks * 8 // 1024:,} MB with pg_prewarm"
        except psycopg2.Error as exc:
            conn.rollback()
            for table in WARM:
                cr.execute(f'SELECT count(*) FROM "{table}"')
            how = f"tables only, sequential read (pg_prewarm: {str(exc).strip()[:80]})"
    print(f"warm: {how} ({time.monotonic() - started:.0f} s)")


def forget_previous_runs(db):
    """Delete the transactions and the jobs of earlier benchmark runs.

    Keeps every run on the same table sizes (the duplicate check and the
    transaction inserts would otherwise slow down from run to run).
    """
    with pg_connect(db) as conn, conn.cursor() as cr:
        cr.execute(
            "DELETE FROM spp_dci_transaction WHERE sender_id IN "
            "(SELECT s.id FROM spp_dci_sender s JOIN spp_dci_peer p ON p.id = s.peer_id "
            "WHERE p.dci_id = %s)",
            (CLIENT_ID,),
        )
        transactions = cr.rowcount
        # finished jobs, and jobs left over by an interrupted run (they would run during this one)
        cr.execute(
            "DELETE FROM queue_job WHERE state != 'started' AND model_name = 'spp.dci.transaction'"
        )
        jobs = cr.rowcount
        conn.commit()
    if transactions or jobs:
        print(f"seed: removed {transactions:,} transactions, {jobs:,} jobs of earlier runs")


def ensure_sender(
    config,
    db,
    callback_host=None,
    *,
    client_id=CLIENT_ID,
    secret=SECRET,
    scopes="registry.search",
    signature_policy="required",
):
    """Register the benchmark sender through the Odoo ORM; return ``(key, our sender id)``.

    A new Ed25519 key every run, the secret ``SECRET``, no rate limit, and,
    when ``callback_host`` (``host:port``) is given, that host as its only
    callback host with private (loopback, plain http) callbacks allowed. The
    ORM write clears the server's sender cache (registry signalling). The
    fuzzer (scripts/fuzz.sh) registers its own sender with the keywords
    (``scopes=None``: every scope a sender can have).
    """
    # Odoo is imported here only: the SQL-only parts of the benchmark do not need it, and
    # odoo.addons.spp_dci is importable once the configuration (addons path) is read.
    import odoo  # noqa: PLC0415
    from odoo import SUPERUSER_ID, api  # noqa: PLC0415
    from odoo.modules.registry import Registry  # noqa: PLC0415

    odoo.tools.config.parse_config(["-c", config, "-d", db], setup_logging=False)
    from odoo.addons.spp_dci.dci.keys import SigningKey  # noqa: PLC0415
    from odoo.addons.spp_dci_server.models.spp_dci_sender import SCOPES  # noqa: PLC0415

    scopes = " ".join(SCOPES) if scopes is None else scopes

    key = SigningKey.generate()
    registry = Registry(db)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        Sender = env["spp.dci.sender"].with_context(active_test=False, tracking_disable=True)
        sender = Sender.search([("client_id", "=", client_id)])
        values = {
            "name": f"Benchmark client {client_id}",
            "client_id": client_id,
            "active": True,
            "scopes": scopes,
            "allowed_registry_types": "social",
            "signature_policy": signature_policy,
            "rate_limit": 0,
            "key_ids": [
                (5, 0, 0),
                (
                    0,
                    0,
                    {
                        "kid": key.kid,
                        "algorithm": key.algorithm,
                        "public_key": key.public_key.to_pem().decode(),
                    },
                ),
            ],
        }
        if callback_host:
            values.update(callback_hosts=callback_host, allow_private_callbacks=True)
        if sender:
            sender.write(values)
        else:
            sender = Sender.create(values)
        sender._dci_set_secret(secret)
        our_id = env["spp.dci.signing.key"]._dci_sender_id()
        cr.commit()
    # a server already running drops its cached sender (and keys) at its next request
    registry.signal_changes()
    return key, our_id
