"""The routes of a DCI endpoint: they read the request and hand it to the service.

Routes take the raw request (not pydantic parameters): the DCI signature is
checked over the JSON as received, batches are validated item by item, and
every failure must answer with a DCI body, which FastAPI's automatic
validation would not give. The request and response schemas are still
documented in the OpenAPI document (see openapi.py).
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from odoo.addons.fastapi.context import odoo_env_ctx

from ..services.config import EndpointConfig
from ..services.server import RECEIVER_PATHS, REGISTRY_PATHS, SYNC, DCIServer


async def dci_endpoint_config() -> EndpointConfig:
    """Replaced in each DCI app by the settings of its endpoint record."""
    raise RuntimeError("not a DCI endpoint")


Config = Annotated[EndpointConfig, Depends(dci_endpoint_config)]

dci_router = APIRouter()


async def read_body(request: Request, limit: int):
    """The body, or None when it is larger than ``limit`` bytes."""
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > limit:
        return None
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _respond(server, reply):
    body, headers = server.render(reply)
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


def _add_route(path):
    if path in REGISTRY_PATHS:
        scope, mode = REGISTRY_PATHS[path]
        tag = "Sync" if mode == SYNC else "Async"
    else:
        scope, tag = RECEIVER_PATHS[path], "Callbacks"

    async def endpoint(request: Request, config: Config):
        body = await read_body(request, config.max_body_bytes)
        server = DCIServer(odoo_env_ctx.get(), config)
        return _respond(server, server.handle(path, request.headers, body))

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
async def token(request: Request, config: Config):
    body = await read_body(request, 16 * 1024)
    server = DCIServer(odoo_env_ctx.get(), config)
    return _respond(server, server.token(request.headers, body))


@dci_router.get(
    "/.well-known/jwks.json",
    tags=["Security"],
    summary="Our public signature keys (active and retiring)",
    response_class=Response,
    operation_id="dci_jwks",
)
async def jwks(config: Config):
    server = DCIServer(odoo_env_ctx.get(), config)
    return _respond(server, server.jwks())
