"""The one table of the DCI paths this server answers: scope and mode of each."""

from odoo.addons.spp_dci.dci.codes import Action

SYNC = "sync"
ASYNC = "async"

#: Registry paths: scope and mode.
REGISTRY_PATHS = {
    "/registry/sync/search": ("registry.search", SYNC),
    "/registry/search": ("registry.search", ASYNC),
    "/registry/subscribe": ("registry.subscribe", ASYNC),
    "/registry/unsubscribe": ("registry.subscribe", ASYNC),
    "/registry/txn/status": ("registry.status", ASYNC),
    "/registry/sync/txn/status": ("registry.status", SYNC),
}
#: Caller-side receivers (we are the SP-MIS): scope.
RECEIVER_PATHS = {
    "/registry/on-search": "registry.on-search",
    "/registry/on-subscribe": "registry.on-subscribe",
    "/registry/on-unsubscribe": "registry.on-subscribe",
    "/registry/notify": "registry.notify",
    "/registry/txn/on-status": "registry.on-status",
}
#: The asynchronous path of each request action (jobs re-read the stored request).
ASYNC_PATHS = {
    "search": "/registry/search",
    "subscribe": "/registry/subscribe",
    "unsubscribe": "/registry/unsubscribe",
    "txn-status": "/registry/txn/status",
}
#: The receiver path, under a sender's default callback URL, of each async request path.
CALLBACK_PATHS = {
    "/registry/search": "/registry/on-search",
    "/registry/subscribe": "/registry/on-subscribe",
    "/registry/unsubscribe": "/registry/on-unsubscribe",
    "/registry/txn/status": "/registry/txn/on-status",
}
NOTIFY_PATH = "/registry/notify"


def default_callback_url(base_url, path):
    """``<base_url><path>`` (``path`` a receiver path), or None without a base URL."""
    return base_url.rstrip("/") + path if base_url else None


def notify_url(notify_uri, sender_uri, callback_base_url):
    """Where a subscription's notifications go, or None when nowhere.

    The sender's notify URI; else the subscribe request's ``sender_uri`` with its
    last segment ``on-subscribe`` replaced by ``notify``; else the sender's default
    callback URL + ``/registry/notify``.
    """
    if notify_uri:
        return notify_uri
    if sender_uri and sender_uri.rstrip("/").endswith("/on-subscribe"):
        return sender_uri.rstrip("/")[: -len("on-subscribe")] + "notify"
    return default_callback_url(callback_base_url, NOTIFY_PATH)


#: The callback action that answers each request action.
REPLY_ACTIONS = {
    Action.SEARCH: Action.ON_SEARCH,
    Action.SUBSCRIBE: Action.ON_SUBSCRIBE,
    Action.UNSUBSCRIBE: Action.ON_UNSUBSCRIBE,
    Action.TXN_STATUS: Action.TXN_ON_STATUS,
}
