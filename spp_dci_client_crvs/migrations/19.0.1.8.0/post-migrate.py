"""Registrants who died before this version: end the group memberships left open.

From 19.0.1.8.0 a death (CRVS import, Verify with CRVS) ends the deceased's
memberships on the death date; people whose death was recorded earlier still
count as members. Done through the ORM (one search, a write per death date) so
that what depends on the end dates (the social registry's group size) follows.
"""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    memberships = env["spp.group.membership"].search_fetch(
        [("individual_id.death_date", "!=", False), ("end_date", "=", False)],
        ["individual_id"],
    )
    deceased = memberships.individual_id
    env["res.partner"]._crvs_end_memberships({p.id: p.death_date for p in deceased})
    env.flush_all()
