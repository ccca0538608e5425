# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
"""Plain-Python DCI client (httpx); the Odoo models in ``..models`` wrap it."""

from . import errors, oauth2, service
