"""The routes of a DCI endpoint: one small handler per path.

Routes take the raw request (not pydantic parameters): the DCI signature is
checked over the JSON as received, batches are validated item by item, and
every failure must answer with a DCI body, which FastAPI's automatic
validation would not give. Authentication and the envelope checks are
dependencies (dependencies.py); the request and response schemas are still
documented in the OpenAPI document (see openapi.py).
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from ..services.answers import accept_async, answer_sync
from ..services.paths import RECEIVER_PATHS, REGISTRY_PATHS, SYNC
from ..services.receivers import receive_callback
from ..services.replies import Reply, render
from ..services.token_endpoint import token_reply
from .dependencies import (
    PrimaryContext,
    Received,
    Registry,
    caller_address,
    dci_endpoint_config,
    read_body,
    received_callback,
    registry_request,
)
from .error_handlers import DCIRoute

__all__ = ["dci_endpoint_config", "dci_router"]

dci_router = APIRouter(route_class=DCIRoute)


def respond(ctx, reply: Reply):
    body, headers = render(ctx, reply)
    return Response(
        content=body, status_code=reply.status, headers=headers, media_type="application/json"
    )


SUMMARIES = {
    "/registry/sync/search": "Search the registry; the records are in the response",
    "/registry/search": "Search the registry; ACK now, results POSTed to header.sender_uri",
    "/registry/subscribe": "Subscribe to registry events; ACK now, on-subscribe callback",
    "/registry/unsubscribe": "End subscriptions; ACK now, on-unsubscribe callback",
    "/registry/txn/status": "Status of one of your transactions; ACK now, txn/on-status callback",
    "/registry/sync/txn/status": "Status of one of your transactions, in the response",
    "/registry/on-search": "Receive search results (this system as the caller)",
    "/registry/on-subscribe": "Receive subscription results (this system as the caller)",
    "/registry/on-unsubscribe": "Receive unsubscription results (this system as the caller)",
    "/registry/notify": "Receive event notifications (this system as the subscriber)",
    "/registry/txn/on-status": "Receive transaction status (this system as the caller)",
}


def _registry_route(path):
    scope, mode = REGISTRY_PATHS[path]
    Checked = Annotated[Registry, Depends(registry_request(path))]
    if mode == SYNC:

        async def endpoint(request: Request, registry: Checked):
            ctx, checked = registry
            return respond(ctx, answer_sync(ctx, checked, request.state.dci_started))

    else:

        async def endpoint(registry: Checked):
            ctx, checked = registry
            ctx.end_reads()
            return respond(ctx, accept_async(ctx, checked))

    return endpoint, scope, "Sync" if mode == SYNC else "Async"


def _receiver_route(path):
    scope = RECEIVER_PATHS[path]
    Callback = Annotated[Received, Depends(received_callback(path, scope))]

    async def endpoint(callback: Callback):
        ctx = callback.ctx
        return respond(ctx, receive_callback(ctx, path, callback.sender, callback.data))

    return endpoint, scope, "Callbacks"


def _add_route(path):
    make = _registry_route if path in REGISTRY_PATHS else _receiver_route
    endpoint, scope, tag = make(path)
    endpoint.__name__ = "dci_" + path.strip("/").replace("/", "_").replace("-", "_")
    dci_router.add_api_route(
        path,
        endpoint,
        methods=["POST"],
        tags=[tag],
        summary=SUMMARIES[path],
        description=f"Requires a bearer token with scope `{scope}` and a DCI-signed JSON envelope.",
        response_class=Response,
        operation_id=endpoint.__name__,
    )


for _path in SUMMARIES:
    _add_route(_path)


@dci_router.post(
    "/oauth2/client/token",
    tags=["Security"],
    summary="OAuth2 client credentials: a short-lived signed JWT access token",
    response_class=Response,
    operation_id="dci_oauth2_client_token",
)
async def token(request: Request, ctx: PrimaryContext):
    body = await read_body(request, 16 * 1024)
    return respond(ctx, token_reply(ctx, request.headers, body, caller_address(request)))


@dci_router.get(
    "/.well-known/jwks.json",
    tags=["Security"],
    summary="Our public signature keys (active and retiring)",
    response_class=Response,
    operation_id="dci_jwks",
)
async def jwks(ctx: PrimaryContext):
    jwks = ctx.env["spp.dci.signing.key"]._dci_jwks()
    return respond(ctx, Reply(200, jwks, {"Cache-Control": "public, max-age=300"}))
