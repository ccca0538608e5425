"""DCI refusals as spec answers, at the route (before any middleware sees them).

The OCA ``fastapi`` addon removes the exception handlers of every app, so a
``DCIError`` raised by a dependency or a handler is turned into its answer by
the routes' own class (:class:`DCIRoute`): the spec body of
``services/replies.error_reply``, and on a registry path whose body was read,
the refusal is recorded first (one transaction row, state ``rejected``).
Handling it here, inside the app, lets the other middlewares (e.g. the
client's receiver log) see the real status. Anything else is left to
``middleware.py``.
"""

import logging

from fastapi.responses import Response
from fastapi.routing import APIRoute

from odoo.addons.spp_dci.dci.errors import DCIError
from odoo.addons.spp_dci.dci.schemas.actions import ENDPOINTS

from ..services.paths import REGISTRY_PATHS
from ..services.replies import error_reply, render
from ..services.transactions import record_rejection

_logger = logging.getLogger(__name__)


def refusal_response(request, path, err: DCIError):
    state = request.state
    ctx = state.dci_context
    ctx.end_reads()  # the refusal is written on the request's cursor
    sender = getattr(state, "dci_sender", None)
    data = getattr(state, "dci_data", None)
    if sender is not None:
        _logger.info("DCI: %s from %s rejected: %s", path, sender.client_id, err)
        if data is not None and path in REGISTRY_PATHS:
            record_rejection(
                ctx,
                sender,
                ENDPOINTS[path].action,
                REGISTRY_PATHS[path][1],
                data,
                err,
                store_payloads=ctx.config.store_payloads,
            )
    reply = error_reply(ctx, path, err, sender)
    body, headers = render(ctx, reply)
    return Response(
        content=body, status_code=reply.status, headers=headers, media_type="application/json"
    )


class DCIRoute(APIRoute):
    """A route whose DCIErrors (dependencies included) answer the spec body, and whose
    context's reads end with the answer, whatever happened."""

    def get_route_handler(self):
        handler = super().get_route_handler()
        path = self.path

        async def dci_route_handler(request):
            try:
                return await handler(request)
            except DCIError as err:
                if getattr(request.state, "dci_context", None) is None:
                    raise  # before our dependencies ran: middleware.py answers
                return refusal_response(request, path, err)
            finally:
                ctx = getattr(request.state, "dci_context", None)
                if ctx is not None:
                    ctx.end_reads()  # the read-only cursor ends with the answer

        return dci_route_handler
