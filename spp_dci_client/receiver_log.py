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
even read its body): time, path, status, code and the caller's address. Its
body (when at most ``CLAIM_LIMIT`` bytes) is looked at for one value only, the
``transaction_id`` it names: the refusal is then noted on that open transaction
of ours (never its state), so that an answer refused at our door does not leave
it waiting without a word. That value is not logged either. The
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

#: Bytes of an unauthenticated callback's body read at most to find its transaction_id.
CLAIM_LIMIT = 256 * 1024

#: Receiver path -> the callback action it receives.
RECEIVER_PATHS = {
    "/registry/on-search": "on-search",
    "/registry/on-subscribe": "on-subscribe",
    "/registry/on-unsubscribe": "on-unsubscribe",
    "/registry/txn/on-status": "txn-on-status",
    "/registry/notify": "notify",
}


async def _read_head(receive):
    """``(messages, body head, complete)``: the body's first messages, up to CLAIM_LIMIT."""
    messages, chunks, size = [], [], 0
    while size <= CLAIM_LIMIT:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, b"", False
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        if not message.get("more_body", False):
            return messages, b"".join(chunks), size <= CLAIM_LIMIT
    return messages, b"", False


def _claimed(raw):
    """``message.transaction_id`` of a refused unauthenticated callback, or None.

    The app refused it before reading its body; only a body of at most
    ``CLAIM_LIMIT`` bytes is looked at, for this one value, which only ties the
    refusal to one of our open transactions (a note on it, see
    ``spp.dci.client.transaction._dci_note_refusals``) and is never logged.
    """
    data = _json(raw)
    message = data.get("message") if isinstance(data, dict) else None
    transaction_id = message.get("transaction_id") if isinstance(message, dict) else None
    if isinstance(transaction_id, str) and 0 < len(transaction_id) <= 128:
        return transaction_id
    return None


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
        # The first CLAIM_LIMIT bytes of the body, read now and replayed to the app:
        # enough to find the transaction_id of a refused anonymous callback (_claimed).
        replay, head, complete = await _read_head(receive)

        async def tracking_receive():
            message = replay.pop(0) if replay else await receive()
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
            claimed = None
            if not authenticated and status in (401, 403):
                # only to tell which of our transactions it answered (see _claimed)
                claimed = _claimed(head) if complete else None
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
                    claimed,
                )

    @staticmethod
    def _log(action, url, request_body, status, response_body, start, state, address, claimed):
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
                claimed_transaction_id=claimed,
            )
        except Exception:
            _logger.exception("DCI client: could not log a %s callback", action)
