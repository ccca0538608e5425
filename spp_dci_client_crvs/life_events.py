# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
"""What a page of CRVS records changes beyond the people themselves.

* Births: the parents the record names (``parent1_identifier``,
  ``parent2_identifier``, CRVS_Person) are linked when they are registered
  individuals, and the newborn joins their household.
* Deaths: the deceased's open group memberships end on the death date, so the
  groups' sizes (current members) drop.

Set-based, like the rest of the page: the parents are found by the page's one
identifier query, then a few queries per page (not per record).
"""

#: Relationship to the head of a newborn joining the household of a parent whose own
#: relationship is the key (RelationshipTypeEnum codes of spp.group.membership).
NEWBORN_RELATIONSHIP = {
    "SELF": "CHILD",
    "PRIMSPOUS": "CHILD",
    "SPS": "CHILD",
    "DOMPART": "CHILD",
    "CHILD": "GRNDCHILD",
    "SONC": "GRNDCHILD",
    "DAUC": "GRNDCHILD",
}


class LifeEvents:
    """Mixed into :class:`..importer.CRVSUpsert`; uses its page state and ``_note``."""

    def _parent_values(self, person, holders, self_id=None):
        """``parent1_id`` / ``parent2_id`` of the registered individuals the record names."""
        values = {}
        for field_name, parent in zip(("parent1_id", "parent2_id"), person.parents, strict=False):
            parent_id = holders.get(parent) if parent else None
            if parent_id and parent_id != self_id and parent_id not in self._group_ids:
                values[field_name] = parent_id
        return values

    def _join_households(self):
        """Add the page's newborns to their parents' household (3 queries for the page).

        A newborn who already belongs to a group is left there. The household is
        the one group the registered parents are current members of; parents in
        several households leave the choice to a human (said on the line).
        """
        newborns = self.env["res.partner"].browse(self._births)
        parent_of = {}
        for newborn in newborns:
            for parent in newborn.parent1_id | newborn.parent2_id:
                parent_of.setdefault(newborn.id, set()).add(parent.id)
        if not parent_of:
            return
        memberships = self.env["spp.group.membership"]
        current = memberships.search_fetch(
            [
                ("individual_id", "in", list({p for ps in parent_of.values() for p in ps})),
                ("end_date", "=", False),
            ],
            ["individual_id", "group_id", "role", "relationship"],
        )
        already = set(
            memberships.search_fetch(
                [("individual_id", "in", list(parent_of)), ("end_date", "=", False)],
                ["individual_id"],
            ).individual_id.ids
        )
        by_parent = {}
        for membership in current:
            by_parent.setdefault(membership.individual_id.id, []).append(membership)
        creates, joined = [], []
        for newborn_id, parent_ids in parent_of.items():
            if newborn_id in already:
                continue
            rows = [row for parent_id in parent_ids for row in by_parent.get(parent_id, [])]
            groups = {row.group_id for row in rows}
            if len(groups) > 1:
                names = ", ".join(sorted(group.display_name for group in groups))
                self._note(
                    newborn_id, f"parents in several households ({names}): not added", changed=False
                )
                continue
            if not groups:
                continue
            relationships = {
                "CHILD" if row.role == "head" else NEWBORN_RELATIONSHIP.get(row.relationship)
                for row in rows
            }
            relationship = (
                "CHILD" if "CHILD" in relationships else next(filter(None, relationships), False)
            )
            group = rows[0].group_id
            creates.append(
                {
                    "group_id": group.id,
                    "individual_id": newborn_id,
                    "role": "member",
                    "relationship": relationship or False,
                    "start_date": self._births[newborn_id].birthdate,
                }
            )
            joined.append((newborn_id, group.display_name))
        if creates:
            memberships.create(creates)
        for newborn_id, name in joined:
            self._note(newborn_id, f"joined household {name}")

    def _end_memberships(self):
        """End the group memberships of the page's deceased (one search for the page)."""
        ended = self.env["res.partner"]._crvs_end_memberships(
            {partner_id: person.death_date for partner_id, person in self._deaths.items()}
        )
        for partner_id, groups in ended.items():
            self._note(partner_id, f"group membership ended: {', '.join(sorted(groups))}")
