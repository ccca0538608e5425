"""The error handling of the DCI apps: every failure answers a spec body.

The OCA ``fastapi`` addon removes the exception handlers of every app so that
errors reach Odoo's transaction handling, so this ASGI middleware is where
errors become answers:

* ``DCIError`` is answered at the route (``error_handlers.py``); one raised
  before the route's dependencies ran gets its spec answer here;

* 404/405: ``HttpErrorResponse`` (``err.request.not_found`` / ``err.request.bad``);
* anything else: the transaction is rolled back, the traceback is logged
  server-side, and the client gets ``err.service.unavailable`` with HTTP 503
  (an ERR ACK, or a signed ``rjct`` envelope on the sync paths) - never a
  traceback, never a 500.

Concurrency errors (serialization failure, deadlock, lock not available,
Odoo's ConcurrencyError) are re-raised so that Odoo retries the whole request,
as for any other route (``services/concurrency.py``).
"""

import json
import logging

from starlette.exceptions import HTTPException

from odoo.addons.fastapi.context import odoo_env_ctx
from odoo.addons.spp_dci.dci.codes import ErrorCode
from odoo.addons.spp_dci.dci.errors import DCIError

from ..services.concurrency import RETRYABLE
from ..services.context import DCIContext
from ..services.replies import Reply, error_reply, render

_logger = logging.getLogger(__name__)


class DCILastResortMiddleware:
    def __init__(self, app, config):
        self.app = app
        self.config = config

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started or isinstance(exc, RETRYABLE):
                raise
            status, body, headers = self._answer(scope, exc)
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})

    def _path(self, scope):
        path = scope.get("path", "")
        root = scope.get("root_path") or self.config.root_path
        return path[len(root) :] if root and path.startswith(root) else path

    def _answer(self, scope, exc):
        env = odoo_env_ctx.get(None)
        if isinstance(exc, HTTPException) and exc.status_code in (404, 405):
            code = ErrorCode.REQUEST_NOT_FOUND if exc.status_code == 404 else ErrorCode.REQUEST_BAD
            err = DCIError(
                code,
                "no such path" if exc.status_code == 404 else "method not allowed",
                exc.status_code,
            )
            reply = Reply(exc.status_code, err.http_body(), dict(exc.headers or {}))
        elif isinstance(exc, DCIError):  # raised before the route's own handling
            err, reply = exc, None
        else:
            _logger.exception(
                "DCI endpoint %s: unexpected error on %s", self.config.root_path, scope.get("path")
            )
            if env is not None:
                env.cr.rollback()
            err = DCIError(
                ErrorCode.SERVICE_UNAVAILABLE,
                "internal error; it has been logged, try again later",
                503,
            )
            reply = None
        if env is None:
            reply = reply or Reply(err.http_status, err.http_body())
            body = json.dumps(reply.body).encode()
            headers = {"Content-Type": "application/json", **reply.headers}
        else:
            ctx = DCIContext(env, self.config)
            reply = reply or error_reply(ctx, self._path(scope), err)
            try:
                body, headers = render(ctx, reply)
            except Exception:
                _logger.exception("DCI: cannot render the error answer")
                body, headers = (
                    json.dumps(err.http_body()).encode(),
                    {"Content-Type": "application/json"},
                )
        return reply.status, body, _header_list(headers)


def _header_list(headers):
    return [(k.lower().encode(), str(v).encode()) for k, v in headers.items()]
