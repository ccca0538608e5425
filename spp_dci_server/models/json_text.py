"""Stored DCI messages (``fields.Json``) as text a person can read on a form.

Odoo's ace widget shows a Text field; given a Json value it prints
``[object Object]``. Each model shows a computed Text twin of its payloads,
indented, in the ace widget (mode javascript: its editor has no json mode).
"""

import json

from odoo import api, fields


def json_text(value):
    """``value`` as indented JSON; a plain string (e.g. a purge note) as it is."""
    if value is None or value is False:
        return False
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, ensure_ascii=False)


def json_text_field(source, **kwargs):
    """The read-only Text field ``<source>_text`` showing the Json field ``source``."""

    @api.depends(source)
    def compute(records):
        for record in records:
            record[f"{source}_text"] = json_text(record[source])

    return fields.Text(compute=compute, readonly=True, **kwargs)
