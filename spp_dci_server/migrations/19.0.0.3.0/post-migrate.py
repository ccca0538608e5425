def migrate(cr, version):
    """Callbacks keep trying for 21 minutes (8 attempts), not 2.5, where the old default stays."""
    cr.execute(
        "UPDATE ir_config_parameter SET value = '8' "
        "WHERE key = 'spp_dci_server.delivery_max_attempts' AND value = '5'"
    )
