"""Database side of the fault run: registrants that change, CRVS births, the import run.

Births are added to the demo CRVS (``spp.dci.demo.person``, served at /dci/crvs
by the same Odoo) in plain SQL, each with a birth registration number
``SOAK-<batch>-<n>`` and a birth date in a year no other data uses. The import
is started the way the import wizard's "background" mode starts it: one committed queue
job per page.
"""

import time
import uuid
from datetime import date

from bench.seed import pg_connect

import odoo
from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry

BIRTH_YEAR = 1931  # the demo data has no births that year


def _env(args):
    odoo.tools.config.parse_config(["-c", args.config, "-d", args.db], setup_logging=False)
    return Registry(args.db).cursor()


def create_registrants(args, surname, count):
    """``count`` new registrants named ``surname`` (each a registry change); their UINs."""
    values = [f"SOAK-UIN-{uuid.uuid4().hex[:12]}" for _ in range(count)]
    with _env(args) as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        uin = env["spp.id.type"].search([("code", "=", "UIN")], limit=1)
        env["res.partner"].create(
            [
                {
                    "is_registrant": True,
                    "given_name": f"Change{n}",
                    "family_name": surname,
                    "registry_id_ids": [(0, 0, {"id_type_id": uin.id, "value": value})],
                }
                for n, value in enumerate(values)
            ]
        )
        cr.commit()
    return values


def seed_births(args, count, *, year=BIRTH_YEAR):
    """Add ``count`` births in ``year`` to the demo CRVS; returns the batch name."""
    batch = f"{int(time.time())}-{uuid.uuid4().hex[:6]}"  # starts with its creation time
    with pg_connect(args.db) as conn, conn.cursor() as cr:
        cr.execute("SELECT id FROM spp_id_type WHERE code = 'BRN'")
        brn = cr.fetchone()[0]
        # the earlier runs' births would be imported again (unchanged): start each run clean
        cr.execute(
            "DELETE FROM spp_dci_demo_person WHERE registry_type = 'crvs' "
            "AND birth_date BETWEEN %s AND %s",
            (date(year, 1, 1), date(year, 12, 31)),
        )
        cr.execute(
            """
            WITH new AS (
                INSERT INTO spp_dci_demo_person (registry_type, given_name, surname, name, sex,
                    birth_date, create_uid, write_uid, create_date, write_date)
                SELECT 'crvs', 'Soak' || n, 'Crvsbirth', 'Soak' || n || ' Crvsbirth',
                       (ARRAY['male', 'female'])[1 + n %% 2], DATE %s + (n %% 365),
                       1, 1, now() AT TIME ZONE 'utc', now() AT TIME ZONE 'utc'
                  FROM generate_series(1, %s) AS n
                RETURNING id, given_name
            )
            INSERT INTO spp_dci_demo_person_id (person_id, id_type_id, value, create_uid,
                write_uid, create_date, write_date)
            SELECT id, %s, 'SOAK-' || %s || '-' || substr(given_name, 5), 1, 1,
                   now() AT TIME ZONE 'utc', now() AT TIME ZONE 'utc'
              FROM new
            """,
            (date(year, 1, 1), count, brn, batch),
        )
        conn.commit()
    return batch


def add_deaths(args, batch, count, year):
    """The first ``count`` people of the batch die in ``year``: a death date and a death
    registration number ``SOAK-<batch>-D<n>`` in the demo CRVS."""
    with pg_connect(args.db) as conn, conn.cursor() as cr:
        cr.execute(
            """
            WITH dead AS (
                UPDATE spp_dci_demo_person p SET death_date = DATE %s + (i.n %% 365)
                  FROM (SELECT person_id, substr(value, length(%s) + 1)::int AS n
                          FROM spp_dci_demo_person_id WHERE value LIKE %s
                           AND id_type_id = (SELECT id FROM spp_id_type WHERE code = 'BRN')) i
                 WHERE p.id = i.person_id AND i.n <= %s
                RETURNING p.id, i.n
            )
            INSERT INTO spp_dci_demo_person_id (person_id, id_type_id, value, create_uid,
                write_uid, create_date, write_date)
            SELECT dead.id, t.id, %s || 'D' || dead.n, 1, 1,
                   now() AT TIME ZONE 'utc', now() AT TIME ZONE 'utc'
              FROM dead, spp_id_type t WHERE t.code = 'DRN'
            """,
            (
                date(year, 1, 1),
                f"SOAK-{batch}-",
                f"SOAK-{batch}-%",
                count,
                f"SOAK-{batch}-",
            ),
        )
        conn.commit()


def queue_import(args, batch, *, event="birth", year=BIRTH_YEAR):
    """Start the background import of the year's ``event`` (one page job at a time); its run id."""
    with _env(args) as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        source = env["spp.dci.data.source"].search([("registry_type", "=", "crvs")], limit=1)
        source.page_size = args.crvs_page_size
        run = source._crvs_import_start(event, date(year, 1, 1), date(year, 12, 31))
        cr.commit()
        return run.id


def wait_run(db, run_id, done, timeout):
    """Poll the import run until ``done(state, page_count)`` or the timeout; its state."""
    deadline = time.monotonic() + timeout
    while True:
        with pg_connect(db) as conn, conn.cursor() as cr:
            cr.execute(
                "SELECT state, coalesce(page_count, 0) FROM spp_dci_crvs_import WHERE id = %s",
                (run_id,),
            )
            state, pages = cr.fetchone() or (None, 0)
        if done(state, pages) or time.monotonic() >= deadline:
            return state
        time.sleep(0.5)


def imported(db, batch):
    """What the registry holds of the batch: registrants, numbers held twice, import runs."""
    with pg_connect(db) as conn, conn.cursor() as cr:
        cr.execute(
            "SELECT count(DISTINCT r.partner_id), count(*) - count(DISTINCT r.value) "
            "FROM spp_registry_id r JOIN spp_id_type t ON t.id = r.id_type_id "
            "WHERE t.code = 'BRN' AND r.value LIKE %s",
            (f"SOAK-{batch}-%",),
        )
        registrants, duplicates = cr.fetchone()
        cr.execute(  # the runs of this batch: those created since it was seeded
            "SELECT state, count(*) FROM spp_dci_crvs_import WHERE event_type = 'birth' "
            "AND date_from = %s AND create_date >= to_timestamp(%s) AT TIME ZONE 'utc' "
            "GROUP BY state",
            (date(BIRTH_YEAR, 1, 1), int(batch.split("-")[0])),
        )
        runs = dict(cr.fetchall())
    return {"registrants": registrants, "duplicates": duplicates, "runs": runs}
