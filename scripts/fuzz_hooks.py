"""schemathesis hooks of scripts/fuzz.sh: generated envelopes that get past the header.

Bodies generated from the schemas alone almost never name our fuzz sender, our
id and a fresh ``message_ts``, so the server refuses them at the header and the
handlers behind it are never fuzzed. Where the generated value is a string (a
wrong type is left alone, as a negative case), these members are set to what a
real peer sends, and the (never verifying) generated signature is dropped: the
fuzz sender's policy accepts unsigned messages. Every other member stays as
generated.
"""

import os
import uuid
from datetime import UTC, datetime

import schemathesis

SENDER_ID = os.environ.get("FUZZ_SENDER_ID", "dci-fuzz")
RECEIVER_ID = os.environ.get("FUZZ_RECEIVER_ID", "")


def _action(path):
    # /registry/sync/search -> search, /registry/txn/on-status -> txn-on-status
    return path.removeprefix("/registry/").removeprefix("sync/").replace("/", "-")


@schemathesis.hook
def map_case(context, case):
    # map_case, not map_body: the coverage phase does not run the body hooks
    body = case.body
    header = body.get("header") if isinstance(body, dict) else None
    if not isinstance(header, dict):
        return case
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    wanted = {
        "message_id": str(uuid.uuid4()),  # generated ids repeat ("0"): duplicates
        "message_ts": now,
        "sender_id": SENDER_ID,
        "version": "1.0.0",
    }
    if RECEIVER_ID:
        wanted["receiver_id"] = RECEIVER_ID
    wanted["action"] = _action(case.operation.path)
    for name, value in wanted.items():
        if isinstance(header.get(name), str):
            header[name] = value
    if isinstance(header.get("is_msg_encrypted"), bool):
        header["is_msg_encrypted"] = False  # the server refuses encrypted messages
    # a generated signature never verifies: send the message unsigned (policy "off")
    body.pop("signature", None)
    return case
