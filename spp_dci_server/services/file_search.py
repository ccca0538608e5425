"""Bulk search by file: ``multipart/form-data`` with the spec's ``FileInfo`` on the search paths.

The spec declares a ``multipart/form-data`` body of ``FileInfo`` (``action``,
``fileName`` the file itself, ``fileFormat``) and says nothing of how it is
signed or what the file holds. Our form (docs/protocol.md, "Bulk search by file"):

- ``envelope``: the DCI envelope ``{signature, header, message}`` of action
  ``search``, signed as any envelope; its message is ``{transaction_id,
  file_info, search_criteria?, locale?}``;
- ``fileName``: the file, CSV (header row ``identifier_type,identifier_value``,
  optional ``reference_id``) or a JSON list of those objects;
- ``action`` (``search``) and ``fileFormat`` (``csv`` | ``json``): FileInfo's fields.

``message.file_info`` repeats FileInfo and adds ``fileDigest``
(``SHA-256=<base64>`` of the file's bytes) and, optionally, ``fileSize``: the
body signature covers the message, so it binds the file. Each row becomes an
``idtype-value`` search item built on ``search_criteria``; the expanded envelope
then passes the checks of a JSON one and is answered like one (checks.py).
"""

import base64
import csv
import hashlib
import io
from dataclasses import dataclass

from odoo.addons.spp_dci.dci import json_body
from odoo.addons.spp_dci.dci.canonical import DIGEST_PREFIX
from odoo.addons.spp_dci.dci.codes import ErrorCode, MsgHeaderStatusReasonCode, QueryType
from odoo.addons.spp_dci.dci.errors import DCIError

from .multipart import MULTIPART_TYPE, media_type, parse_form
from .paths import SYNC

#: the search paths that take a file besides JSON
FILE_SEARCH_PATHS = ("/registry/search", "/registry/sync/search")
ENVELOPE_PART = "envelope"
FILE_PART = "fileName"
FORMATS = ("csv", "json")
CSV_TYPES = ("text/csv", "application/csv")
JSON_TYPES = ("application/json", "text/json")
#: part types that name no format: fileFormat (or the file name) decides
NEUTRAL_TYPES = ("", "application/octet-stream", "text/plain")
COLUMNS = ("identifier_type", "identifier_value")
MAX_FIELD = 256  # characters of an identifier type, value or reference


@dataclass
class FileUpload:
    """The parts of a file search besides the envelope."""

    envelope: bytes  # the envelope part as sent
    file: object  # multipart.Part
    action: str | None
    file_format: str | None


def _bad(message, status=400):
    return DCIError(ErrorCode.REQUEST_BAD, message, status)


def is_file_request(path, headers):
    return path in FILE_SEARCH_PATHS and media_type(headers.get("content-type")) == MULTIPART_TYPE


def body_limit(config):
    """Bytes a file search may send: an envelope and a file at their limits."""
    return config.max_body_bytes + config.file_max_bytes


def max_rows(config, mode):
    """Rows of one file: the batch limit on the sync path, the file limit on the async one."""
    return config.max_items if mode == SYNC else config.file_max_rows


def _field(form, name):
    part = form.get(name)
    if part is None:
        return None
    try:
        return bytes(part.data).decode().strip()
    except UnicodeDecodeError:
        raise _bad(f"the form field {name!r} is not UTF-8") from None


def read_upload(ctx, headers, body):
    """``(data, upload)``: the envelope part as JSON and the rest of the form."""
    config = ctx.config
    if body is None:
        raise _bad(f"the request body is larger than {body_limit(config)} bytes", 413)
    form = parse_form(headers.get("content-type"), body)
    envelope = form.get(ENVELOPE_PART)
    if envelope is None:
        raise _bad(f"the form has no {ENVELOPE_PART!r} part (the signed DCI envelope)")
    if (envelope.content_type or "") not in ("application/json", *NEUTRAL_TYPES):
        raise _bad(f"the {ENVELOPE_PART!r} part must be application/json", 415)
    if len(envelope.data) > config.max_body_bytes:
        raise _bad(f"the envelope is larger than {config.max_body_bytes} bytes", 413)
    try:
        data = json_body.loads(bytes(envelope.data))
    except json_body.JSONBodyError as exc:
        raise _bad(f"the envelope {exc}") from None
    if not isinstance(data, dict):
        raise _bad("the envelope must be a JSON object")
    file = form.get(FILE_PART)
    if file is None:
        raise _bad(f"the form has no {FILE_PART!r} part (FileInfo.fileName: the file)")
    if len(file.data) > config.file_max_bytes:
        raise _bad(f"the file is larger than {config.file_max_bytes} bytes", 413)
    upload = FileUpload(
        bytes(envelope.data), file, _field(form, "action"), _field(form, "fileFormat")
    )
    return data, upload


def _file_format(upload, file_info):
    declared = [str(f).lower() for f in (upload.file_format, file_info.get("fileFormat")) if f]
    for file_format in declared:
        if file_format not in FORMATS:
            raise _bad(f"fileFormat {file_format!r} is not supported (csv or json)", 415)
    if len(set(declared)) > 1:
        raise _bad("the form's fileFormat and message.file_info.fileFormat differ")
    part_type = upload.file.content_type or ""
    if part_type in CSV_TYPES:
        typed = "csv"
    elif part_type in JSON_TYPES:
        typed = "json"
    elif part_type in NEUTRAL_TYPES:
        typed = None
    else:
        raise _bad(f"the file's Content-Type {part_type!r} is not CSV or JSON", 415)
    name = upload.file.filename or file_info.get("fileName")
    name = name.lower() if isinstance(name, str) else ""
    named = next((f for f in FORMATS if name.endswith("." + f)), None)
    chosen = declared[0] if declared else typed or named or "json"  # FileInfo's default
    if typed and typed != chosen:
        raise _bad(f"the file is sent as {part_type} but its fileFormat is {chosen}", 415)
    return chosen


def _check_digest(file_info, data):
    expected = file_info.get("fileDigest")
    if not isinstance(expected, str) or not expected:
        raise _bad(
            "message.file_info.fileDigest is required (SHA-256=<base64> of the file): "
            "it binds the file to the signed envelope"
        )
    prefix, _sep, value = expected.partition("=")
    if not _sep or prefix.upper() != DIGEST_PREFIX[:-1]:
        raise _bad("message.file_info.fileDigest must read SHA-256=<base64 of the digest>")
    actual = hashlib.sha256(data).digest()
    try:
        matches = base64.b64decode(value, validate=True) == actual
    except ValueError:
        raise _bad("message.file_info.fileDigest is not base64") from None
    if not matches:
        raise _bad("the file is not the one the envelope signs: its SHA-256 digest differs")
    size = file_info.get("fileSize")
    if size is not None and size != len(data):
        raise _bad(f"the file has {len(data)} bytes, message.file_info.fileSize says {size}")


def _text(data):
    if b"\x00" in data:
        raise _bad("the file holds NUL bytes")
    try:
        text = bytes(data).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _bad(f"the file is not UTF-8 (byte {exc.start})") from None
    return text.removeprefix("\ufeff")


def _too_many(limit, mode):
    hint = " (send larger files to /registry/search)" if mode == SYNC else ""
    return DCIError(
        MsgHeaderStatusReasonCode.TOTAL_COUNT_LIMIT_EXCEEDED,
        f"the file has more than {limit} rows{hint}",
    )


def _row(where, id_type, value, reference):
    if isinstance(id_type, str):
        id_type = id_type.strip()
    if isinstance(value, str):
        value = value.strip()
    if not isinstance(id_type, str) or not id_type:
        raise _bad(f"{where}: identifier_type must be a non-empty string")
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        raise _bad(f"{where}: identifier_value must be a non-empty string")
    if isinstance(reference, str):
        reference = reference.strip() or None
    elif reference is not None:
        raise _bad(f"{where}: reference_id must be a string")
    if any(isinstance(v, str) and len(v) > MAX_FIELD for v in (id_type, value, reference)):
        raise _bad(f"{where}: a field is longer than {MAX_FIELD} characters")
    return reference, id_type, value


def _csv_rows(text, limit, mode):
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows = []
    try:
        header = next(reader, None)
        names = [name.strip().lower() for name in header or ()]
        if not set(COLUMNS) <= set(names):
            raise _bad("the CSV file's first line must name identifier_type,identifier_value")
        if len(set(names)) != len(names):
            raise _bad("the CSV file's first line repeats a column")
        where = {name: names.index(name) for name in (*COLUMNS, "reference_id") if name in names}
        for line in reader:
            if not any(cell.strip() for cell in line):
                continue  # blank lines (a trailing newline, say) are no rows
            if len(rows) == limit:
                raise _too_many(limit, mode)
            if len(line) != len(names):
                raise _bad(
                    f"CSV line {reader.line_num}: {len(line)} fields, the header has {len(names)}"
                )
            reference = line[where["reference_id"]] if "reference_id" in where else None
            rows.append(
                _row(
                    f"CSV line {reader.line_num}",
                    line[where["identifier_type"]],
                    line[where["identifier_value"]],
                    reference,
                )
            )
    except csv.Error as exc:
        raise _bad(f"the CSV file is malformed (line {reader.line_num}): {exc}") from None
    return rows


def _json_rows(text, limit, mode):
    try:
        entries = json_body.loads(text)
    except json_body.JSONBodyError as exc:
        raise _bad(f"the JSON file {exc}") from None
    if not isinstance(entries, list):
        raise _bad("the JSON file must be a list of {identifier_type, identifier_value} objects")
    if len(entries) > limit:
        raise _too_many(limit, mode)
    rows = []
    for index, entry in enumerate(entries):
        where = f"JSON item {index + 1}"
        if not isinstance(entry, dict):
            raise _bad(f"{where}: must be an object")
        rows.append(
            _row(
                where,
                entry.get("identifier_type"),
                entry.get("identifier_value"),
                entry.get("reference_id"),
            )
        )
    return rows


def read_rows(file_format, data, limit, mode):
    """``[(reference_id or None, identifier_type, identifier_value)]`` of the file."""
    text = _text(data)
    rows = (_csv_rows if file_format == "csv" else _json_rows)(text, limit, mode)
    if not rows:
        raise _bad("the file holds no identifiers")
    return rows


def _template(message):
    criteria = message.get("search_criteria", {})
    if not isinstance(criteria, dict):
        raise _bad("message.search_criteria must be an object")
    if "query" in criteria:
        raise _bad("message.search_criteria.query is not allowed: each row of the file is one")
    if criteria.get("query_type", QueryType.IDTYPE_VALUE.value) != QueryType.IDTYPE_VALUE.value:
        raise _bad("a file search is an idtype-value search (message.search_criteria.query_type)")
    return criteria


def expand(ctx, mode, data, upload):
    """The envelope with one ``idtype-value`` search item per row of the file.

    ``data`` passed :func:`checks.check_envelope` (its signature covers
    ``file_info``); the rows are checked here, the items by the usual checks.
    """
    header, message = data["header"], data["message"]
    file_info = message.get("file_info")
    if not isinstance(file_info, dict):
        raise _bad("message.file_info is required: FileInfo with fileDigest")
    for action in (upload.action, file_info.get("action")):
        if action is not None and action != "search":
            raise DCIError(
                MsgHeaderStatusReasonCode.ACTION_INVALID, "the file's action must be search"
            )
    file_format = _file_format(upload, file_info)
    file_data = bytes(upload.file.data)
    _check_digest(file_info, file_data)
    template = _template(message)
    limit = max_rows(ctx.config, mode)
    rows = read_rows(file_format, file_data, limit, mode)
    total = header.get("total_count")
    if isinstance(total, int) and not isinstance(total, bool) and total != len(rows):
        raise DCIError(
            MsgHeaderStatusReasonCode.TOTAL_COUNT_INVALID,
            f"header.total_count is {total}, the file has {len(rows)} rows",
        )
    locale = message.get("locale")
    items = []
    for number, (reference, id_type, value) in enumerate(rows, start=1):
        item = {
            "reference_id": reference or f"row-{number}",
            "timestamp": header.get("message_ts"),
            "search_criteria": {
                **template,
                "query_type": QueryType.IDTYPE_VALUE.value,
                "query": {"type": id_type, "value": value},
            },
        }
        if locale is not None:
            item["locale"] = locale
        items.append(item)
    expanded = {key: value for key, value in data.items() if key != "signature"}
    expanded["message"] = {
        "transaction_id": message.get("transaction_id"),
        "file_info": {**file_info, "fileFormat": file_format, "rows": len(rows)},
        "search_request": items,
    }
    return expanded
