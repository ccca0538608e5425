"""Fewer index entries per transaction row: the field indexes that other indexes cover
(correlation_id: its UNIQUE constraint; sender_id: the composites that lead with it) and
those of the common values of state and delivery_state (partial indexes of the rare
values replace them, created by the upgrade). Odoo keeps an index that a field no longer
declares, so they are dropped here."""

REDUNDANT = (
    "spp_dci_transaction__correlation_id_index",
    "spp_dci_transaction__sender_id_index",
    "spp_dci_transaction__state_index",
    "spp_dci_transaction__delivery_state_index",
)


def migrate(cr, version):
    for name in REDUNDANT:
        cr.execute(f'DROP INDEX IF EXISTS "{name}"')
