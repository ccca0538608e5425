"""Which message goes with which action and path, and the envelope parse helpers.

The server and the client both use ``ACTION_MESSAGES`` / ``ENDPOINTS`` so that
they agree on what each endpoint carries.
"""

import functools
from dataclasses import dataclass

from pydantic import BaseModel, ValidationError

from ..codes import Action, ErrorCode, MsgHeaderStatusReasonCode
from ..errors import DCIError, from_validation_error
from .common import (
    CallbackEnvelope,
    Envelope,
    RequestEnvelope,
    Response,
    SubscriptionCallbackEnvelope,
)
from .notify import (
    EnrollmentUpdatesRequest,
    EnrollmentUpdatesResponse,
    NotifyEventRequest,
)
from .search import (
    DisabledRequest,
    DisabledResponse,
    EnrolledRequest,
    EnrolledResponse,
    GetDisabilityInfoResponse,
    GetDisabilitySupportRequest,
    GetDisabilitySupportResponse,
    SearchRequest,
    SearchResponse,
)
from .subscribe import (
    SubscribeRequest,
    SubscribeResponse,
    UnSubscribeRequest,
    UnSubscribeResponse,
)
from .txn import TxnStatusRequest, TxnStatusResponse

#: Plain (unencrypted) message model of each action on the generic endpoints.
ACTION_MESSAGES = {
    Action.SEARCH: SearchRequest,
    Action.ON_SEARCH: SearchResponse,
    Action.SUBSCRIBE: SubscribeRequest,
    Action.ON_SUBSCRIBE: SubscribeResponse,
    Action.UNSUBSCRIBE: UnSubscribeRequest,
    Action.ON_UNSUBSCRIBE: UnSubscribeResponse,
    Action.NOTIFY: NotifyEventRequest,
    Action.TXN_STATUS: TxnStatusRequest,
    Action.TXN_ON_STATUS: TxnStatusResponse,
}

#: Actions received by a registry.
REQUEST_ACTIONS = frozenset(
    {Action.SEARCH, Action.SUBSCRIBE, Action.UNSUBSCRIBE, Action.TXN_STATUS}
)
#: Actions received by the caller/subscriber (and carried by sync replies).
CALLBACK_ACTIONS = frozenset(set(Action) - REQUEST_ACTIONS)

REGISTRIES = ("social", "crvs", "ibr", "dr", "fr")
_WITH_TXN_STATUS = ("social", "crvs", "ibr", "fr")  # dr: spdci/api-standards#49


@functools.cache
def envelope_model(action, message_model=None) -> type[Envelope]:
    """The envelope class for ``action``, with its spec header and message model
    (parametrised once: pydantic's own lookup of a generic costs more than a dict's)."""
    action = Action(action)
    message_model = message_model or ACTION_MESSAGES[action]
    if action in (Action.ON_SUBSCRIBE, Action.ON_UNSUBSCRIBE):
        return SubscriptionCallbackEnvelope[message_model]
    if action in CALLBACK_ACTIONS:
        return CallbackEnvelope[message_model]
    return RequestEnvelope[message_model]


@dataclass(frozen=True)
class Endpoint:
    """One POST path of the registry specs.

    ``reply_message`` is set for the sync paths. Their reply is a callback
    envelope with ``reply_action``, except on the IBR sync paths, whose spec
    answers with the bare message (``reply_action`` is None there).
    """

    path: str
    action: Action
    message: type[BaseModel]
    registries: tuple = REGISTRIES
    reply_action: Action | None = None
    reply_message: type[BaseModel] | None = None

    @property
    def is_sync(self) -> bool:
        return self.reply_message is not None

    @property
    def request_envelope(self) -> type[Envelope]:
        return envelope_model(self.action, self.message)

    @property
    def reply_model(self) -> type[BaseModel]:
        """What the endpoint answers: an ACK, a callback envelope or a bare message."""
        if not self.is_sync:
            return Response
        if self.reply_action is None:
            return self.reply_message
        return envelope_model(self.reply_action, self.reply_message)


ENDPOINTS = {
    endpoint.path: endpoint
    for endpoint in (
        Endpoint("/registry/search", Action.SEARCH, SearchRequest),
        Endpoint("/registry/on-search", Action.ON_SEARCH, SearchResponse),
        Endpoint("/registry/subscribe", Action.SUBSCRIBE, SubscribeRequest),
        Endpoint("/registry/on-subscribe", Action.ON_SUBSCRIBE, SubscribeResponse),
        Endpoint("/registry/unsubscribe", Action.UNSUBSCRIBE, UnSubscribeRequest),
        Endpoint("/registry/on-unsubscribe", Action.ON_UNSUBSCRIBE, UnSubscribeResponse),
        Endpoint("/registry/notify", Action.NOTIFY, NotifyEventRequest),
        Endpoint(
            "/registry/txn/status",
            Action.TXN_STATUS,
            TxnStatusRequest,
            _WITH_TXN_STATUS,
        ),
        Endpoint(
            "/registry/txn/on-status",
            Action.TXN_ON_STATUS,
            TxnStatusResponse,
            _WITH_TXN_STATUS,
        ),
        Endpoint(
            "/registry/sync/search",
            Action.SEARCH,
            SearchRequest,
            reply_action=Action.ON_SEARCH,
            reply_message=SearchResponse,
        ),
        Endpoint(
            "/registry/sync/txn/status",
            Action.TXN_STATUS,
            TxnStatusRequest,
            _WITH_TXN_STATUS,
            reply_action=Action.TXN_ON_STATUS,
            reply_message=TxnStatusResponse,
        ),
        Endpoint(
            "/registry/sync/enrolled",
            Action.SEARCH,
            EnrolledRequest,
            ("ibr",),
            reply_message=EnrolledResponse,
        ),
        Endpoint(
            "/registry/sync/enrollment/updates",
            Action.NOTIFY,
            EnrollmentUpdatesRequest,
            ("ibr",),
            reply_message=EnrollmentUpdatesResponse,
        ),
        Endpoint(
            "/registry/sync/disabled",
            Action.SEARCH,
            DisabledRequest,
            ("dr",),
            reply_action=Action.ON_SEARCH,
            reply_message=DisabledResponse,
        ),
        Endpoint(
            "/registry/sync/get-disability-details",
            Action.SEARCH,
            GetDisabilitySupportRequest,
            ("dr",),
            reply_action=Action.ON_SEARCH,
            reply_message=GetDisabilityInfoResponse,
        ),
        Endpoint(
            "/registry/sync/get-disability-support",
            Action.SEARCH,
            GetDisabilitySupportRequest,
            ("dr",),
            reply_action=Action.ON_SEARCH,
            reply_message=GetDisabilitySupportResponse,
        ),
    )
}


def _header_action(data, expected_action, accepted_actions) -> Action:
    """Read ``header.action`` before full validation, to pick the message model."""
    if not isinstance(data, dict):
        raise DCIError(ErrorCode.REQUEST_BAD, "body: Input should be a JSON object")
    header = data.get("header")
    if header is None:
        raise DCIError(ErrorCode.REQUEST_BAD, "header: Field required")
    if not isinstance(header, dict):
        raise DCIError(ErrorCode.REQUEST_BAD, "header: Input should be an object")
    action = header.get("action")
    if not isinstance(action, str) or not action:
        raise DCIError(MsgHeaderStatusReasonCode.ACTION_INVALID, "header.action is required")
    if action not in Action._value2member_map_:
        raise DCIError(
            MsgHeaderStatusReasonCode.ACTION_NOT_SUPPORTED,
            f"header.action {action!r} is not a DCI registry action",
        )
    action = Action(action)
    if expected_action is not None and action != expected_action:
        raise DCIError(
            MsgHeaderStatusReasonCode.ACTION_INVALID,
            f"header.action {action.value!r} does not match this endpoint "
            f"(expected {Action(expected_action).value!r})",
        )
    if action not in accepted_actions:
        raise DCIError(
            MsgHeaderStatusReasonCode.ACTION_NOT_SUPPORTED,
            f"header.action {action.value!r} is not accepted here",
        )
    return action


def _validate(model, data):
    try:
        return model.from_json(data)
    except ValidationError as exc:
        raise from_validation_error(exc) from exc


def parse_request_envelope(data, expected_action=None, message_model=None):
    """Parse a message sent to a registry (search, subscribe, unsubscribe, txn-status).

    ``expected_action`` is the action of the endpoint that received ``data``; when
    None, any request action is accepted. ``message_model`` overrides
    ``ACTION_MESSAGES`` (IBR/DR sync paths). Raises ``DCIError``.
    """
    action = _header_action(data, expected_action, REQUEST_ACTIONS)
    return _validate(envelope_model(action, message_model), data)


def parse_callback_envelope(data, expected_action=None, message_model=None):
    """Parse a message sent by a registry (on-search, on-subscribe, on-unsubscribe,
    notify, txn-on-status, and sync replies). Raises ``DCIError``.
    """
    action = _header_action(data, expected_action, CALLBACK_ACTIONS)
    return _validate(envelope_model(action, message_model), data)


def parse_endpoint_request(path, data):
    """Parse the body posted to ``path`` (a key of ``ENDPOINTS``). Raises ``DCIError``."""
    endpoint = ENDPOINTS.get(path)
    if endpoint is None:
        raise DCIError(ErrorCode.REQUEST_NOT_FOUND, f"{path} is not a DCI endpoint")
    accepted = CALLBACK_ACTIONS if endpoint.action in CALLBACK_ACTIONS else REQUEST_ACTIONS
    action = _header_action(data, endpoint.action, accepted)
    return _validate(envelope_model(action, endpoint.message), data)


def parse_endpoint_reply(path, data):
    """Parse the HTTP reply of ``path``: ACK, sync callback envelope or bare message."""
    endpoint = ENDPOINTS.get(path)
    if endpoint is None:
        raise DCIError(ErrorCode.REQUEST_NOT_FOUND, f"{path} is not a DCI endpoint")
    if endpoint.is_sync and endpoint.reply_action is not None:
        _header_action(data, endpoint.reply_action, CALLBACK_ACTIONS)
    return _validate(endpoint.reply_model, data)


def parse_ack(data) -> Response:
    """Parse an ACK ``Response`` body. Raises ``DCIError``."""
    return _validate(Response, data)
