"""The DCI request pipeline as FastAPI dependencies (the OCA ``fastapi`` way).

A registry route depends on :func:`registry_request`, which depends on
:func:`authenticated_sender`, which depends on :func:`dci_context`:

1. ``dci_context``: our identity for this endpoint and the request's cursors;
2. ``authenticated_sender(scope)``: bearer token, scope, registry type, rate limit;
3. ``registry_request(path)``: implementation present, body read and size-checked,
   JSON (``registry_body``), RFC 9421 HTTP signature (:func:`http_signature`),
   envelope, DCI signature and header checked (``services/checks.py``); on the
   search paths a ``multipart/form-data`` body is a file search, whose envelope
   part passes the same checks (``services/file_search.py``).

Any failure raises ``DCIError``; the routes' class (``error_handlers.DCIRoute``)
turns it into the spec answer (and records the refusal), using what the
dependencies left in ``request.state``.
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


async def dci_context(request: Request):
    """Registry paths: reads on the read-only cursor (replica), closed after the answer."""
    request.state.dci_started = time.monotonic()
    config = await dci_endpoint_config(request)
    ctx = request.state.dci_context = DCIContext(odoo_env_ctx.get(), config, replica=True)
    try:
        yield ctx
    finally:
        ctx.end_reads()


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


def authenticated_sender(scope):
    """The dependency: the SenderInfo of a valid token with ``scope`` (registry paths).

    The rate is counted from the sender's transaction rows (every worker).
    """

    async def sender_for_scope(request: Request, ctx: Context) -> SenderInfo:
        sender = authenticate(ctx, request.headers.get("authorization"), scope)
        request.state.dci_sender = sender
        check_rate(ctx.read_env, sender)
        return sender

    return sender_for_scope


class Received(NamedTuple):
    """A request body as received (the exact bytes) and its JSON (a file search: its upload)."""

    body: bytes
    data: dict
    upload: object = None


def http_signature(Ctx, Sender, Body, *, receiver=False):
    """The dependency: the request's RFC 9421 signature (``services/http_signatures.py``).

    Verified when present, after the token and the JSON and before the envelope
    and its DCI signature; required by the sender's policy (and, on the receiver
    paths, by ``spp.dci.inbox._dci_requires_http_signature``).
    """

    async def verified_http_signature(request: Request, ctx: Ctx, sender: Sender, received: Body):
        present = SIGNATURE_INPUT in request.headers
        required = sender.require_http_signature
        if receiver and not required and not present:  # a query: only when needed
            required = ctx.env["spp.dci.inbox"]._dci_requires_http_signature(sender)
        if not present and not required:
            return None
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw]
        return check_http_signature(
            sender, request.method, str(request.url), headers, received.body, required=required
        )

    return verified_http_signature


def registry_request(path):
    """The dependency: the CheckedRequest of a POST to the registry path ``path``."""
    Sender = Annotated[SenderInfo, Depends(authenticated_sender(REGISTRY_PATHS[path][0]))]

    async def registry_body(request: Request, ctx: Context, sender: Sender) -> Received:
        ensure_implementation(ctx)
        if is_file_request(path, request.headers):
            body = await read_body(request, body_limit(ctx.config), in_memory=True)
            data, upload = read_upload(ctx, request.headers, body)
            request.state.dci_data = data
            return Received(body, data, upload)
        body = await read_body(request, ctx.config.max_body_bytes, in_memory=True)
        data = read_json(ctx, request.headers, body)
        request.state.dci_data = data  # from here on, a refusal is recorded
        return Received(body, data)

    Body = Annotated[Received, Depends(registry_body)]
    HttpSignature = Annotated[object, Depends(http_signature(Context, Sender, Body))]

    async def checked_request(
        ctx: Context, sender: Sender, received: Body, _signature: HttpSignature
    ) -> CheckedRequest:
        if received.upload is not None:  # the signed bytes are the envelope part's
            upload = received.upload
            return check_request(ctx, path, sender, received.data, upload.envelope, upload)
        return check_request(ctx, path, sender, received.data, received.body)

    return checked_request


def received_callback(path, scope):
    """The dependency: ``(sender, data)`` of a POST to a receiver path.

    The token is checked before the body is read: an unauthenticated caller's
    body is never read, parsed or logged. Its refusal is counted per source
    address in the database; past the limit it is answered 429 and nothing is
    written at all. ``request.state.dci_sender`` tells every middleware (the
    client's receiver log) that the caller is authenticated. The sender's own
    rate is counted in this process. Then the body, its RFC 9421 signature.
    """

    async def callback_sender(request: Request, ctx: PrimaryContext) -> SenderInfo:
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
        return sender

    Sender = Annotated[SenderInfo, Depends(callback_sender)]

    async def callback_body(request: Request, ctx: PrimaryContext, sender: Sender) -> Received:
        body = await read_body(request, ctx.config.max_body_bytes)
        return Received(body, read_json(ctx, request.headers, body))

    Body = Annotated[Received, Depends(callback_body)]
    HttpSignature = Annotated[
        object, Depends(http_signature(PrimaryContext, Sender, Body, receiver=True))
    ]

    async def callback(sender: Sender, received: Body, _signature: HttpSignature) -> tuple:
        return sender, received.data

    return callback
