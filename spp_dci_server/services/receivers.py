"""Callbacks received on our caller-side paths (we are the SP-MIS): store, ACK, dispatch."""

import uuid

from odoo.addons.spp_dci.dci.codes import AckStatus
from odoo.addons.spp_dci.dci.errors import ack_body
from odoo.addons.spp_dci.dci.schemas.actions import ENDPOINTS, parse_callback_envelope

from .checks import check_envelope, check_header
from .replies import Reply


def receive_callback(ctx, path, sender, data):
    endpoint = ENDPOINTS[path]
    signature_state, kid, _digest = check_envelope(sender, data, callback=True)
    envelope = parse_callback_envelope(data, endpoint.action)
    check_header(ctx, envelope.header, ctx.receiver_ids())
    correlation = getattr(envelope.message, "correlation_id", None) or str(uuid.uuid4())
    Inbox = ctx.env["spp.dci.inbox"]
    if Inbox._dci_redelivery(ctx.sender(sender), endpoint.action, envelope.header.message_id, data):
        return Reply(200, ack_body(AckStatus.ACK, correlation))  # processed once already
    inbox = Inbox._dci_receive(
        ctx.config,
        ctx.sender(sender),
        endpoint.action,
        data,
        envelope,
        signature_state,
        kid or False,
    )
    inbox.with_delay(
        channel="root.dci", description=f"DCI: dispatch {endpoint.action}"
    )._dci_dispatch()
    return Reply(200, ack_body(AckStatus.ACK, correlation))
