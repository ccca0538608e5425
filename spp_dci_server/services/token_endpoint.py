"""``POST /oauth2/client/token``: OAuth2 client credentials (RFC 6749 4.4).

Failed attempts (unknown client id or wrong secret) are counted per client id
and per source address in the database (``ratelimit.py``); past either limit
the endpoint answers 429 with ``Retry-After`` before checking anything, even a
correct secret, until the window has room again.

Refusals are RFC 6749 5.2 errors: ``error`` (``invalid_request``, ``invalid_client``,
``unsupported_grant_type``, ``invalid_scope``, ``unauthorized_client``) and
``error_description``, with 400, or 401 for ``invalid_client``; 413 and 429 keep
their status with ``invalid_request``. The DCI ``errors`` list and the RFC 9457
members are beside them, as on every error answer.
"""

import base64
import binascii
import logging
import re
from urllib.parse import parse_qs, unquote

from odoo.addons.spp_dci.dci.codes import ErrorCode
from odoo.addons.spp_dci.dci.errors import DCIError

from .auth import check_failures, check_local_rate, check_registry_type, record_failures
from .ratelimit import failure_key
from .replies import Reply
from .tokens import issue_token

_logger = logging.getLogger(__name__)

FORM_TYPE = "application/x-www-form-urlencoded"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
# RFC 6749 5.2: error_description is printable ASCII without '"' and '\\'.
NOT_DESCRIPTION = re.compile(r"[^\x20-\x21\x23-\x5b\x5d-\x7e]")


class TokenRefusal(DCIError):
    """A refusal with its RFC 6749 ``error`` (400 unless told)."""

    def __init__(self, oauth_error, code, message, http_status=400):
        super().__init__(code, message, http_status)
        self.oauth_error = oauth_error


def oauth_error(err: DCIError) -> str:
    if isinstance(err, TokenRefusal):
        return err.oauth_error
    return "invalid_client" if err.http_status == 401 else "invalid_request"


def token_reply(ctx, headers, body, address=None):
    """The answer to a token request; ``address``: the caller's IP address."""
    try:
        return Reply(200, _issue(ctx, headers, body, address), NO_STORE)
    except DCIError as err:
        headers_out = {**NO_STORE, **err.http_headers}
        if err.http_status == 401:
            headers_out["WWW-Authenticate"] = 'Basic realm="dci"'
        answer = {
            "error": oauth_error(err),
            "error_description": NOT_DESCRIPTION.sub("?", err.message),
            **err.http_body(),
        }
        return Reply(err.http_status, answer, headers_out)


def _issue(ctx, headers, body, address):
    content_type = (headers.get("content-type") or "").split(";")[0].strip().lower()
    if content_type != FORM_TYPE:
        raise DCIError(ErrorCode.REQUEST_BAD, f"the token request must be {FORM_TYPE}")
    if body is None:
        raise DCIError(ErrorCode.REQUEST_BAD, "the token request is too large", 413)
    values = _form(body)
    client_id, secret = values.get("client_id"), values.get("client_secret")
    basic = _basic_credentials(headers.get("authorization"))
    if basic:
        if client_id and client_id != basic[0]:
            raise DCIError(ErrorCode.REQUEST_BAD, "client_id differs from the Basic credentials")
        client_id, secret = basic
    if not values.get("grant_type"):
        raise DCIError(ErrorCode.REQUEST_BAD, "grant_type is required")
    if values["grant_type"] != "client_credentials":
        raise TokenRefusal(
            "unsupported_grant_type", ErrorCode.REQUEST_BAD, "grant_type must be client_credentials"
        )
    if not client_id or not secret:
        raise DCIError(ErrorCode.REQUEST_BAD, "client_id and client_secret are required")
    if "\x00" in client_id or "\x00" in secret:  # Basic credentials: percent-decoded
        raise DCIError(ErrorCode.REQUEST_BAD, "the client credentials hold a NUL character")
    failures = (failure_key("client", client_id), failure_key("address", address))
    check_failures(ctx, failures)
    sender = ctx.env["spp.dci.sender"]._dci_authenticate_client(client_id, secret)
    if not sender:
        record_failures(ctx, failures)
        _logger.info("DCI: token refused to client id %.64r from %s", client_id, address)
        raise DCIError(ErrorCode.REQUEST_UNAUTHORIZED, "invalid client credentials", 401)
    check_local_rate(ctx, sender)
    try:
        check_registry_type(ctx, sender)
    except DCIError as err:
        raise TokenRefusal("unauthorized_client", err.code, err.message) from None
    requested = values.get("scope", "").split()
    if requested:
        refused = sorted(set(requested) - set(sender.scopes))
        if refused:
            raise TokenRefusal(
                "invalid_scope",
                ErrorCode.REQUEST_FORBIDDEN,
                f"scope not allowed: {' '.join(refused)}",
            )
        scopes = list(dict.fromkeys(requested))
    else:
        scopes = list(sender.scopes)
    ttl = ctx.config.token_ttl
    token, _claims = issue_token(
        ctx.signer,
        issuer=ctx.our_id,
        audience=ctx.config.root_path,
        client_id=sender.client_id,
        scopes=scopes,
        ttl=ttl,
    )
    _logger.info("DCI: token issued to %s (scopes %s)", sender.client_id, " ".join(scopes))
    return {
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": str(ttl),
        "scope": " ".join(scopes),
    }


def _form(body):
    try:
        form = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body))
    except (UnicodeDecodeError, ValueError):
        raise DCIError(ErrorCode.REQUEST_BAD, "the token request is not a valid form") from None
    values = {}
    for name, items in form.items():
        if len(items) != 1:
            raise DCIError(ErrorCode.REQUEST_BAD, f"parameter {name!r} is repeated")
        if "\x00" in name or "\x00" in items[0]:  # RFC 6749 values are printable ASCII
            raise DCIError(ErrorCode.REQUEST_BAD, "the token request holds a NUL character")
        values[name] = items[0]
    return values


def _basic_credentials(authorization):
    if not authorization or not authorization.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise DCIError(ErrorCode.REQUEST_BAD, "malformed Basic credentials") from None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise DCIError(ErrorCode.REQUEST_BAD, "malformed Basic credentials")
    return unquote(client_id), unquote(secret)
