"""Reading a DCI JSON body the way PostgreSQL and every peer can keep it.

Python's ``json`` accepts two things that nothing downstream can store or sign:
the escape ``\\u0000`` (PostgreSQL text and jsonb refuse NUL) and lone UTF-16
surrogates such as ``"\\ud800"`` (not Unicode scalar values, so they have no
UTF-8 form and no JCS form). Both are the sender's error, so they are refused
where the body is read, before anything is written. ``NaN``/``Infinity`` are
not JSON either.
"""

import json
import re

__all__ = ["JSONBodyError", "loads"]

# Both can only reach a decoded string through a ``\\u`` escape: raw NUL bytes
# are refused by the strict decoder and UTF-8 has no encoding of surrogates.
_ESCAPE = b"\\u"
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class JSONBodyError(ValueError):
    """The body is not JSON, or holds a string no peer or database can keep.

    The message continues "the body ...": ``f"the request body {exc}"``.
    """


def loads(body: bytes | str):
    """Parse ``body``; raise :class:`JSONBodyError` saying what is wrong."""
    try:
        data = json.loads(body, parse_constant=_reject_constant)
    except RecursionError:
        raise JSONBodyError("is not valid JSON: it is nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise JSONBodyError(f"is not valid JSON: {exc}") from None
    escaped = _ESCAPE in body if isinstance(body, bytes) else "\\u" in body
    if escaped:
        _check_strings(data)
    return data


def _reject_constant(name):
    raise ValueError(f"{name} is not valid JSON")


def _check_strings(value, path="$"):
    # Iterative: the decoder already bounded the depth, but a walk should not add to it.
    stack = [(value, path)]
    while stack:
        value, path = stack.pop()
        if isinstance(value, str):
            _check_text(value, path)
        elif isinstance(value, dict):
            for key, item in value.items():
                _check_text(key, path, key=True)
                stack.append((item, f"{path}.{key}"))
        elif isinstance(value, list):
            stack.extend((item, f"{path}[{index}]") for index, item in enumerate(value))


def _check_text(text, path, key=False):
    found = _UNSTORABLE.search(text)
    if found is None:
        return
    what = "a NUL character (\\u0000)" if found.group() == "\x00" else "a lone surrogate"
    where = f"a member name in {path}" if key else path
    if len(where) > 200:  # the path is the sender's text: bounded in our answer
        where = where[:200] + "..."
    raise JSONBodyError(f"has {what} in {where}, which DCI text cannot hold")
