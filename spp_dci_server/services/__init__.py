"""Service layer of the DCI server: the routers parse and dispatch, these modules work.

Plain Python over an Odoo ``env``; the protocol itself (schemas, codes, errors,
signatures, keys, JWKS) comes from ``odoo.addons.spp_dci.dci``.
"""
