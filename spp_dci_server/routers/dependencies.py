"""The DCI request pipeline as FastAPI dependencies (the OCA ``fastapi`` way).

A registry route depends on :func:`registry_request`, a chain in which each
step depends on the one before and hands its result on:

1. ``dci_context``: our identity for this endpoint and the request's cursors;
2. ``authenticated_sender(scope)``: bearer token, scope, registry type, rate
   limit (a :class:`Caller`: the context and the sender);
3. ``registry_request(path)``, the envelope: implementation present, body read
   and size-checked, JSON; on the search paths a ``multipart/form-data`` body is
   a file search, whose envelope part passes the same checks
   (``services/file_search.py``); its RFC 9421 HTTP signature
   (:func:`verify_http_signature`); envelope, DCI signature and header checked
   (``services/checks.py``): a :class:`Registry` (the context and the
   CheckedRequest).

The receiver paths have the same three steps (:func:`received_callback`).
Each step names only the one before it: FastAPI solves a dependency's own
dependencies again wherever it is named, before it looks in its cache, so a
step named by several others would be walked once per name (measured: 18
dependencies solved per registry request for the same checks, against 4).

Any failure raises ``DCIError``; the routes' class (``error_handlers.DCIRoute``)
turns it into the spec answer (and records the refusal), using what the
dependencies left in ``request.state``, and ends the context's reads.
"""

import time
from typing import Annotated, NamedTuple

from fastapi import Depends, Request

from odoo.addons.fastapi.context import odoo_env_ctx
from odoo.addons.spp_dci.dci.errors import DCIError

from ..services.auth import (
    authenticate,
    check_failures,
    check_local_rate,
    check_rate,
    record_failures,
)
from ..services.checks import CheckedRequest, check_request, ensure_implementation, read_json
from ..services.config import EndpointConfig
from ..services.context import DCIContext
from ..services.file_search import body_limit, is_file_request, read_upload
from ..services.http_signatures import SIGNATURE_INPUT, check_http_signature
from ..services.paths import REGISTRY_PATHS
from ..services.ratelimit import failure_key
from ..services.sender_info import SenderInfo


async def dci_endpoint_config(request: Request) -> EndpointConfig:
    """The settings of the endpoint record, baked into its app when it is built."""
    return request.app.state.dci_config


# The contexts call it rather than depend on it: each dependency FastAPI solves costs
# about 0.1 ms on the benchmark machine (measured).


async def dci_context(request: Request) -> DCIContext:
    """Registry paths: reads on the read-only cursor (replica). The routes' class ends
    them after the answer (``DCIRoute``): a plain dependency, not a generator, which
    FastAPI would enter and leave through an exit stack at every request."""
    request.state.dci_started = time.monotonic()
    config = await dci_endpoint_config(request)
    ctx = request.state.dci_context = DCIContext(odoo_env_ctx.get(), config, replica=True)
    return ctx


async def dci_primary_context(request: Request) -> DCIContext:
    """Token, JWKS and receiver paths: everything on the request's cursor."""
    config = await dci_endpoint_config(request)
    ctx = request.state.dci_context = DCIContext(odoo_env_ctx.get(), config)
    return ctx


Context = Annotated[DCIContext, Depends(dci_context)]
PrimaryContext = Annotated[DCIContext, Depends(dci_primary_context)]


async def read_body(request: Request, limit: int, *, in_memory=False):
    """The body, or None when it is larger than ``limit`` bytes.

    ``in_memory``: read it from the WSGI request when there is one. Under Odoo the
    app runs behind a2wsgi, whose ``receive`` hands each chunk over between the
    request's thread and the app's event loop (a few thread switches per body);
    Odoo's FastAPI dispatcher has the body in memory already (``wsgi.input``,
    rewound for a retried request), and a2wsgi passes that environ in the scope.
    Not for paths whose ``receive`` a middleware observes (the client's receiver log).
    """
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > limit:
        return None
    environ = request.scope.get("wsgi_environ") if in_memory else None
    if environ is not None and environ.get("wsgi.input") is not None:
        size = int(length) if length and length.isdigit() else 0  # as a2wsgi reads it
        return environ["wsgi.input"].read(size)
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def caller_address(request: Request):
    """The caller's IP address (behind a reverse proxy: Odoo's ``proxy_mode`` sets it)."""
    return request.client.host if request.client else None


class Caller(NamedTuple):
    """An authenticated request: the context and the sender of a valid token."""

    ctx: DCIContext
    sender: SenderInfo


class Registry(NamedTuple):
    """A registry request that passed every check: the context and the CheckedRequest."""

    ctx: DCIContext
    checked: CheckedRequest


def authenticated_sender(scope):
    """The dependency: the Caller of a valid token with ``scope`` (registry paths).

    The rate is counted from the sender's transaction rows (every worker).
    """

    async def sender_for_scope(request: Request, ctx: Context) -> Caller:
        sender = authenticate(ctx, request.headers.get("authorization"), scope)
        request.state.dci_sender = sender
        check_rate(ctx.read_env, sender)
        return Caller(ctx, sender)

    return sender_for_scope


def verify_http_signature(request: Request, sender: SenderInfo, body, *, required=None):
    """The request's RFC 9421 signature (``services/http_signatures.py``), in the
    envelope step: verified when present, after the token and the JSON and before the
    envelope and its DCI signature; required by ``required`` (default: the sender's
    policy)."""
    present = SIGNATURE_INPUT in request.headers
    if required is None:
        required = sender.require_http_signature
    if present or required:
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw]
        check_http_signature(
            sender, request.method, str(request.url), headers, body, required=required
        )


def registry_request(path):
    """The dependency: the Registry (context, CheckedRequest) of a POST to ``path``."""
    Authenticated = Annotated[Caller, Depends(authenticated_sender(REGISTRY_PATHS[path][0]))]

    async def checked_request(request: Request, caller: Authenticated) -> Registry:
        ctx, sender = caller
        ensure_implementation(ctx)
        upload = None
        if is_file_request(path, request.headers):
            body = await read_body(request, body_limit(ctx.config), in_memory=True)
            data, upload = read_upload(ctx, request.headers, body)
        else:
            body = await read_body(request, ctx.config.max_body_bytes, in_memory=True)
            data = read_json(ctx, request.headers, body)
        request.state.dci_data = data  # from here on, a refusal is recorded
        verify_http_signature(request, sender, body)
        signed = upload.envelope if upload is not None else body  # a file: its envelope part
        return Registry(ctx, check_request(ctx, path, sender, data, signed, upload))

    return checked_request


class Received(NamedTuple):
    """A callback as received: the context, its sender and its JSON."""

    ctx: DCIContext
    sender: SenderInfo
    data: dict


def received_callback(path, scope):
    """The dependency: the Received (context, sender, JSON) of a POST to a receiver path.

    The token is checked before the body is read: an unauthenticated caller's
    body is never read, parsed or logged. Its refusal is counted per source
    address in the database; past the limit it is answered 429 and nothing is
    written at all. ``request.state.dci_sender`` tells every middleware (the
    client's receiver log) that the caller is authenticated. The sender's own
    rate is counted in this process. Then the body, its RFC 9421 signature
    (required by the sender's policy or ``spp.dci.inbox._dci_requires_http_signature``).
    """

    async def callback_sender(request: Request, ctx: PrimaryContext) -> Caller:
        try:
            sender = authenticate(ctx, request.headers.get("authorization"), scope)
        except DCIError as err:
            if err.http_status == 401:
                failures = (failure_key("callback", caller_address(request)),)
                check_failures(ctx, failures)
                record_failures(ctx, failures)
            raise
        request.state.dci_sender = sender
        check_local_rate(ctx, sender)
        return Caller(ctx, sender)

    Authenticated = Annotated[Caller, Depends(callback_sender)]

    async def callback(request: Request, caller: Authenticated) -> Received:
        ctx, sender = caller
        body = await read_body(request, ctx.config.max_body_bytes)
        data = read_json(ctx, request.headers, body)
        required = sender.require_http_signature
        if not required and SIGNATURE_INPUT not in request.headers:  # a query: only if needed
            required = ctx.env["spp.dci.inbox"]._dci_requires_http_signature(sender)
        verify_http_signature(request, sender, body, required=required)
        return Received(ctx, sender, data)

    return callback
