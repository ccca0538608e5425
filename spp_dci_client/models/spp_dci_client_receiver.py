# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
import logging
import time

from odoo import api, models
from odoo.addons.spp_dci.dci.codes import Action, ErrorCode
from odoo.addons.spp_dci.dci.errors import DCIError

from ..client.errors import (
    ConfigurationError,
    DCIClientError,
    SignatureVerificationError,
    SpecViolation,
)
from ..client.service import Exchange
from ..receiver_log import RECEIVER_STATE
from .spp_dci_client_transaction import CALLBACK_OF, OPEN_STATES

_logger = logging.getLogger(__name__)

#: The callbacks this client receives (header.action) and our receiver path for each.
RECEIVED_ACTIONS = {
    Action.ON_SEARCH.value: "/registry/on-search",
    Action.ON_SUBSCRIBE.value: "/registry/on-subscribe",
    Action.ON_UNSUBSCRIBE.value: "/registry/on-unsubscribe",
    Action.TXN_ON_STATUS.value: "/registry/txn/on-status",
    Action.NOTIFY.value: "/registry/notify",
}


class SppDciClientReceiver(models.AbstractModel):
    """Accept or refuse a callback from an external registry, then process it.

    The DCI app of spp_dci_server serves the caller-side paths; once it has
    authenticated the caller and checked the envelope it calls
    ``spp.dci.inbox._dci_receive``, which this addon extends (see
    ``spp_dci_inbox.py``) with :meth:`_dci_accept`: the sender must be one
    of our data sources (its peer's signature, checked once by the DCI app
    with the peer's keys), and the callback must answer one of our open transactions
    (``transaction_id`` + ``correlation_id``) - or, for ``notify``, the data
    source must hold an active subscription. Refusals raise ``DCIError`` (the
    app answers with the spec error) and write nothing but the exchange log.

    Accepted callbacks are stored in the server's inbox, whose queue job
    calls :meth:`_dci_handle_callback` (this model is a callback handler of
    the inbox), which hands the records to the data source's extension
    point ``_dci_process_callback`` / ``_dci_handle_records``.
    """

    _name = "spp.dci.client.receiver"
    _description = "DCI Client Callback Receiver"
    #: Called by ``spp.dci.inbox._dci_dispatch`` for every stored callback.
    _dci_callback_handler = True

    @api.model
    def _dci_accept(self, action, data, sender, kid=None):
        """Run every check; returns ``(data_source, transaction, result)``, or raises DCIError.

        ``sender``: the ``spp.dci.sender`` the DCI app authenticated (its token);
        ``kid``: the key that verified the signature there (None: unsigned). The
        data source of the same DCI id has the same peer, so the same keys and
        signature policy: the signature is verified once, by the DCI app.
        ``header.sender_id`` is optional on callbacks (``MsgCallbackHeader``);
        without it the registry is the one the token names, the only one whose
        ``sender_id`` the DCI app would have let through.
        """
        action = str(Action(action))
        if action not in RECEIVED_ACTIONS:
            raise DCIError(
                ErrorCode.REQUEST_NOT_FOUND, f"{action} is not a callback this client receives"
            )
        sender_id = _sender(data) or sender.client_id
        source = (
            self.env["spp.dci.data.source"]
            .sudo()
            .search([("registry_sender_id", "=", sender_id)], limit=1)
        )
        if not source:
            raise DCIError(
                ErrorCode.SENDER_ID_INVALID, f"{sender_id} is not a registry this system queries"
            )
        try:
            with source._dci_client(receiving=True) as client:
                result = client.accept_callback(action, data, kid or None)
        except Exception as exc:  # DCIClientUserError wraps the client error in .error
            raise _refusal(getattr(exc, "error", exc)) from exc
        message = result.message
        if action == Action.NOTIFY.value:
            if not source.subscription_ids.filtered(
                lambda s: s.state in ("active", "unsubscribing")
            ):
                raise DCIError(
                    ErrorCode.REQUEST_NOT_FOUND, "we hold no active subscription with this registry"
                )
            return source, self.env["spp.dci.client.transaction"].sudo(), result
        if message is None:
            raise DCIError(ErrorCode.REQUEST_BAD, "the callback has no message: nothing matches it")
        transaction = (
            self.env["spp.dci.client.transaction"]
            .sudo()
            .search(
                [
                    ("transaction_id", "=", message.transaction_id),
                    ("data_source_id", "=", source.id),
                ],
                limit=1,
            )
        )
        if not transaction or CALLBACK_OF[transaction.action] != action:
            raise DCIError(
                ErrorCode.REQUEST_NOT_FOUND, "no request of ours has this transaction_id"
            )
        if transaction.correlation_id and transaction.correlation_id != message.correlation_id:
            raise DCIError(
                ErrorCode.REQUEST_NOT_FOUND, "the correlation_id does not match our transaction"
            )
        if transaction.state not in OPEN_STATES:
            raise DCIError(
                ErrorCode.REQUEST_NOT_FOUND, f"our transaction is {transaction.state}, not waiting"
            )
        return source, transaction, result

    @api.model
    def _dci_register(self, source, transaction, result):
        """Book an accepted callback: transaction state, subscriptions, notify counters."""
        if transaction:
            transaction._dci_register_callback(result.header.action.value, result.envelope)
        else:  # notify
            source.subscription_ids.filtered(lambda s: s.state == "active")._dci_register_notify()

    @api.model
    def _dci_log_incoming(self, action, data, *, url, source=None, start=None, error=None):
        """Record what the hook decided (``error``: the DCIError of a refusal).

        Inside the DCI app, the receiver middleware writes the entry once the
        answer is sent (with its final HTTP status); elsewhere it is written now.
        """
        refusal = (str(error.code), error.message, error.http_status) if error is not None else None
        if error is not None:
            _logger.info(
                "DCI client: refused %s callback from %r: %s", action, _sender(data), error
            )
        state = RECEIVER_STATE.get()
        if state is not None:
            state.update(source_id=source.id if source else None, refusal=refusal)
            return []
        return self._dci_write_incoming(
            action, data, url=url, source=source, start=start, refusal=refusal
        )

    @api.model
    def _dci_log_answer(
        self,
        action,
        data,
        *,
        url,
        status,
        answer,
        start=None,
        hook=None,
        address=None,
        claimed_transaction_id=None,
    ):
        """Exchange log entry of an answered callback (called by the receiver middleware).

        ``hook`` is what our hook recorded, empty when the DCI app answered
        before it ran (bad token, unknown sender, signature, message_ts...).
        ``data`` is None for a caller that did not authenticate; ``address``
        is the caller's IP address; ``claimed_transaction_id`` the transaction_id
        the body of an unauthenticated caller names (read for that only).
        """
        hook = hook or {}
        refusal = hook.get("refusal")
        if status != 200 and refusal is None:
            code, text = _answer_error(answer)
            refusal = (code, text, status or 500)
            _logger.info(
                "DCI client: %s callback from %r refused by the DCI app: %s",
                action,
                _sender(data),
                code,
            )
        elif refusal is not None and status:
            refusal = (refusal[0], refusal[1], status)
        sources = self.env["spp.dci.data.source"].sudo().with_context(active_test=False)
        source = sources.browse(hook["source_id"]) if hook.get("source_id") else None
        sender_id = _sender(data)
        if source is None and sender_id:
            source = sources.search([("registry_sender_id", "=", sender_id)], limit=1)
        return self._dci_write_incoming(
            action,
            data,
            url=url,
            source=source,
            start=start,
            refusal=refusal,
            address=address,
            claimed_transaction_id=claimed_transaction_id,
        )

    @api.model
    def _dci_write_incoming(
        self,
        action,
        data,
        *,
        url,
        source,
        start,
        refusal,
        address=None,
        claimed_transaction_id=None,
    ):
        """One exchange log entry of a received callback; a refusal is noted on the
        open transaction it names (the message's, else what an anonymous body claims,
        which is not written in the entry: nothing an unauthenticated caller sent is)."""
        exchange = Exchange(
            action=str(action),
            url=url or "",
            direction="incoming",
            request_body=data,
            remote_address=address,
        )
        if isinstance(data, dict) and isinstance(data.get("header"), dict):
            exchange.message_id = data["header"].get("message_id")
        if isinstance(data, dict) and isinstance(data.get("message"), dict):
            exchange.transaction_id = data["message"].get("transaction_id")
            exchange.correlation_id = data["message"].get("correlation_id")
        if start is not None:
            exchange.duration_ms = int((time.monotonic() - start) * 1000)
        exchange.http_status = 200
        refused_transaction_id = None
        if refusal is not None:
            code, text, http_status = refusal
            exchange.status = "refused"
            exchange.error_kind = "refused"
            exchange.error = f"{code}: {text}" if text else code
            exchange.http_status = http_status
            refused_transaction_id = exchange.transaction_id or claimed_transaction_id
        return self.env["spp.dci.client.exchange.log"]._dci_record_exchange(
            exchange, source or None, defer=True, refused_transaction_id=refused_transaction_id
        )

    # -- processing (queue job of the server's inbox) -----------------------------------

    @api.model
    def _dci_handle_callback(self, inbox):
        """Inbox job hook: hand our callbacks to the data source's extension point."""
        source = inbox.sudo().dci_data_source_id
        if not source:
            return None  # not a callback this client accepted
        transaction = inbox.sudo().dci_client_transaction_id
        # The handler runs as the user who sent the request (their access rights
        # apply to what it creates); notify, asked by nobody, as OdooBot.
        user = transaction.user_id or self.env.ref("base.user_root")
        return source.with_user(user)._dci_process_callback(
            transaction.with_user(user), inbox.action, inbox.sudo().payload["message"]
        )


def _sender(data):
    if isinstance(data, dict) and isinstance(data.get("header"), dict):
        sender = data["header"].get("sender_id")
        return sender if isinstance(sender, str) else None
    return None


def _answer_error(answer):
    """``(code, message)`` of an error answer (HttpErrorResponse or ERR ACK)."""
    if isinstance(answer, dict):
        errors = answer.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            return str(errors[0].get("code") or "error"), errors[0].get("message")
        message = answer.get("message")
        if isinstance(message, dict) and isinstance(message.get("error"), dict):
            return str(message["error"].get("code") or "error"), message["error"].get("message")
    return "error", None


def _refusal(error) -> DCIError:
    """The DCI error to answer a callback that failed the client's checks with."""
    if isinstance(error, DCIError):
        return error
    if isinstance(error, SpecViolation) and isinstance(error.__cause__, DCIError):
        return error.__cause__
    if isinstance(error, SignatureVerificationError):
        if error.kind == "jwks":
            return DCIError(ErrorCode.SERVICE_UNAVAILABLE, str(error), retry_after=30)
        return DCIError(error.code or ErrorCode.SIGNATURE_INVALID, str(error))
    if isinstance(error, ConfigurationError):
        return DCIError(
            ErrorCode.SIGNATURE_INVALID, f"cannot verify callbacks from this sender: {error}"
        )
    if isinstance(error, DCIClientError):
        return DCIError(ErrorCode.REQUEST_BAD, str(error))
    _logger.error("DCI client: unexpected error while checking a callback", exc_info=error)
    return DCIError(ErrorCode.SERVICE_UNAVAILABLE, "the callback could not be checked")
