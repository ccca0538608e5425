"""Reading a ``multipart/form-data`` body into its parts, bytes kept as sent.

Starlette's form parser decodes text fields (falling back to latin-1) and
spools files to disk; a file search needs neither: the body is already read
and size-checked, the envelope must be parsed from its exact bytes and the
file's digest computed over its exact bytes. So the parts are collected here
with python-multipart's streaming parser, and a body that does not end with
its closing boundary is refused (the parser itself does not check it).
"""

from dataclasses import dataclass, field

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, MultipartState, parse_options_header

from odoo.addons.spp_dci.dci.codes import ErrorCode
from odoo.addons.spp_dci.dci.errors import DCIError

MULTIPART_TYPE = "multipart/form-data"
#: more parts than this is not a file search (the form has at most four)
MAX_PARTS = 16


@dataclass
class Part:
    """One part of the form: its name, file name, content type and bytes."""

    name: str = ""
    filename: str | None = None
    content_type: str | None = None
    data: bytearray = field(default_factory=bytearray)


def media_type(value):
    """``"text/csv; charset=utf-8"`` -> ``"text/csv"`` (lowercase, "" when absent)."""
    return (value or "").split(";")[0].strip().lower()


def _bad(message):
    return DCIError(ErrorCode.REQUEST_BAD, message)


def _text(value: bytes, what):
    try:
        return value.decode()
    except UnicodeDecodeError:
        raise _bad(f"the {what} of a form part is not UTF-8") from None


def parse_form(content_type, body) -> dict[str, Part]:
    """The parts of ``body`` by name; a repeated name or a broken body is a 400."""
    _type, options = parse_options_header(content_type or "")
    boundary = options.get(b"boundary")
    if not boundary:
        raise _bad("the multipart/form-data Content-Type has no boundary")
    parts = []
    headers = {}
    header_name = bytearray()
    header_value = bytearray()

    def on_part_begin():
        if len(parts) >= MAX_PARTS:
            raise _bad(f"the form has more than {MAX_PARTS} parts")
        parts.append(Part())
        headers.clear()

    def on_header_field(data, start, end):
        header_name.extend(data[start:end])

    def on_header_value(data, start, end):
        header_value.extend(data[start:end])

    def on_header_end():
        headers[bytes(header_name).lower()] = bytes(header_value)
        header_name.clear()
        header_value.clear()

    def on_headers_finished():
        part = parts[-1]
        _disposition, params = parse_options_header(headers.get(b"content-disposition", b""))
        if b"name" not in params:
            raise _bad('a form part has no Content-Disposition "name"')
        part.name = _text(params[b"name"], "name")
        if b"filename" in params:
            part.filename = _text(params[b"filename"], "file name")
        if b"content-type" in headers:
            part.content_type = media_type(_text(headers[b"content-type"], "Content-Type"))

    def on_part_data(data, start, end):
        parts[-1].data.extend(data[start:end])

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
        },
    )
    try:
        parser.write(body)
        parser.finalize()
    except FormParserError as exc:
        raise _bad(f"the multipart/form-data body is malformed: {exc}") from None
    if parser.state != MultipartState.END:
        raise _bad("the multipart/form-data body ends before its closing boundary")
    form = {}
    for part in parts:
        if part.name in form:
            raise _bad(f"the form part {part.name!r} is repeated")
        form[part.name] = part
    return form
