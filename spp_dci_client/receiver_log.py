# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
"""Log every callback our receivers answer, including those refused by the DCI app.

The DCI app (spp_dci_server) refuses some callbacks before the client's hook
runs: no or a bad bearer token, an unknown sender, a signature that does not
verify with the sender's keys, a stale ``message_ts``. This ASGI middleware
wraps the receiver paths of every DCI endpoint and writes an exchange log
entry for every answer, with its final HTTP status and the refusal
code read from the answer (or the hook's own reason). Entries are deferred to the end of the Odoo
request (see ``models/ir_http.py``).

Only an authenticated caller (the DCI app sets ``request.state.dci_sender``
once the bearer token verified) has its payload and ids logged. A refusal of
an unauthenticated caller is logged without anything it sent (the app does not
even read its body): time, path, status, code and the caller's address. The
app limits those refusals per address; once over the limit it answers 429,
which is not logged at all, so an anonymous caller cannot fill the log.
"""

import contextvars
import logging
import time

from odoo.addons.fastapi.context import odoo_env_ctx
from odoo.addons.spp_dci.dci import json_body

_logger = logging.getLogger(__name__)

#: What the client's hook decided about the callback being received (a dict
#: shared with the hook: ``source_id``, ``refusal``); empty if it did not run.
RECEIVER_STATE = contextvars.ContextVar("spp_dci_client_receiver_state", default=None)

#: Receiver path -> the callback action it receives.
RECEIVER_PATHS = {
    "/registry/on-search": "on-search",
    "/registry/on-subscribe": "on-subscribe",
    "/registry/on-unsubscribe": "on-unsubscribe",
    "/registry/txn/on-status": "txn-on-status",
    "/registry/notify": "notify",
}


def _json(raw):
    # jsonb cannot keep what json_body refuses; such a body is logged without payload.
    try:
        return json_body.loads(raw) if raw else None
    except json_body.JSONBodyError:
        return None


class ReceiverLogMiddleware:
    def __init__(self, app, root_path):
        self.app = app
        self.root_path = root_path

    async def __call__(self, scope, receive, send):
        path = scope.get("path", "") if scope["type"] == "http" else ""
        root = scope.get("root_path") or self.root_path
        relative = path[len(root) :] if root and path.startswith(root) else path
        action = RECEIVER_PATHS.get(relative)
        if action is None or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        received, answered = [], []
        status = None

        async def tracking_receive():
            message = await receive()
            if message["type"] == "http.request":
                received.append(message.get("body", b""))
            return message

        async def tracking_send(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                answered.append(message.get("body", b""))
            await send(message)

        state = {}
        # Starlette's request.state is this dict: the DCI app marks authenticated callers
        request_state = scope.setdefault("state", {})
        token = RECEIVER_STATE.set(state)
        start = time.monotonic()
        try:
            await self.app(scope, tracking_receive, tracking_send)
        finally:
            RECEIVER_STATE.reset(token)
            authenticated = request_state.get("dci_sender") is not None
            if authenticated or status != 429:
                client = scope.get("client") or (None,)
                self._log(
                    action,
                    root + relative,
                    b"".join(received) if authenticated else b"",
                    status,
                    b"".join(answered),
                    start,
                    state,
                    client[0],
                )

    @staticmethod
    def _log(action, url, request_body, status, response_body, start, state, address):
        env = odoo_env_ctx.get(None)
        if env is None:
            return
        try:
            env["spp.dci.client.receiver"]._dci_log_answer(
                action,
                _json(request_body),
                url=url,
                status=status,
                answer=_json(response_body),
                start=start,
                hook=state,
                address=address,
            )
        except Exception:
            _logger.exception("DCI client: could not log a %s callback", action)
