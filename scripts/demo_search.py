#!/usr/bin/env python3
"""The demo MIS: an external system searching this OpenSPP's registries over DCI.

Written as an SP-MIS would write it - with its own code, not OpenSPP's - to show
what a DCI caller does, step by step:

1. keeps its own Ed25519 key pair (``.odoo/demo-mis-ed25519.pem``, made on the
   first run, readable by you only, never sent anywhere) and publishes the
   public half in its own JWKS, served on ``http://127.0.0.1:8765`` while the
   script runs: the demo sender ``demo-mis`` of spp_dci_demo points there;
2. gets an OAuth2 access token (client credentials) from
   ``<url>/dci/<registry>/oauth2/client/token``;
3. signs a search envelope (DCI body signature: RFC 8785 canonical JSON,
   SHA-256, Ed25519) and POSTs it to ``<url>/dci/<registry>/registry/sync/search``;
4. verifies the answer's signature with the registry's JWKS and prints the records.

Run it with the project's virtualenv while ``make run`` serves Odoo::

    .venv/bin/python scripts/demo_search.py                 # the households
    .venv/bin/python scripts/demo_search.py --uin DEMO-UIN-0001
    .venv/bin/python scripts/demo_search.py --surname Reyes --record-type Member
    .venv/bin/python scripts/demo_search.py --registry ibr --uin DEMO-UIN-0001
    .venv/bin/python scripts/demo_search.py --json          # the raw signed answer

The client secret defaults to the demo-only secret that spp_dci_demo sets on
``demo-mis`` (``DCI_DEMO_CLIENT_SECRET`` or ``--client-secret`` to use another
one, e.g. after *Generate Client Secret*). It is never printed.
"""

import argparse
import base64
import hashlib
import json
import os
import re
import sys
import threading
import time
import uuid
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ROOT = Path(__file__).resolve().parent.parent
#: Demo only: the secret spp_dci_demo sets on the demo sender (see its readme/USAGE.md).
DEMO_CLIENT_SECRET = "demo-mis-DEMO-ONLY-secret"
REGISTRIES = ("social", "crvs", "ibr", "dr")


# --- our key and our JWKS ---------------------------------------------------------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def load_or_create_key(path: Path) -> Ed25519PrivateKey:
    if path.exists():
        return serialization.load_pem_private_key(path.read_bytes(), password=None)
    key = Ed25519PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    print(f"Created the demo MIS key pair in {path} (mode 600)", file=sys.stderr)
    return key


def public_jwk(key: Ed25519PrivateKey) -> dict:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    jwk = {"crv": "Ed25519", "kty": "OKP", "x": b64url(raw)}
    # RFC 7638 thumbprint: SHA-256 of the required members, sorted, no spaces
    thumbprint = b64url(hashlib.sha256(json.dumps(jwk, separators=(",", ":")).encode()).digest())
    return {**jwk, "kid": thumbprint, "alg": "EdDSA", "use": "sig"}


def serve_jwks(jwks: dict, port: int) -> ThreadingHTTPServer:
    """Publish our JWKS on 127.0.0.1:port (the registry fetches it to verify us)."""
    body = json.dumps(jwks).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path.split("?")[0] != "/.well-known/jwks.json":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Cache-Control", "max-age=300")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


# --- the DCI body signature ----------------------------------------------------------------


def digest(header: dict, message: dict) -> str:
    canonical = rfc8785.dumps({"header": header, "message": message})
    return "SHA-256=" + base64.b64encode(hashlib.sha256(canonical).digest()).decode("ascii")


def signing_string(created: int, expires: int, body_digest: str) -> bytes:
    return f"(created): {created}\n(expires): {expires}\ndigest: {body_digest}".encode()


def sign(header: dict, message: dict, key: Ed25519PrivateKey, sender_id: str, kid: str) -> str:
    created = int(time.time())
    expires = created + 600
    signature = key.sign(signing_string(created, expires, digest(header, message)))
    return (
        f'Signature: namespace="spdci", kidId="{sender_id}|{kid}|ed25519", '
        f'algorithm="ed25519", created="{created}", expires="{expires}", '
        f'headers="(created) (expires) digest", '
        f'signature="{base64.b64encode(signature).decode("ascii")}"'
    )


def verify(envelope: dict, jwks: dict) -> str:
    """Check the registry's signature on its answer; returns its kidId."""
    params = dict(re.findall(r'(\w+)="([^"]*)"', envelope.get("signature") or ""))
    if not params:
        raise SystemExit("The answer is not signed.")
    sender_id, kid, _algorithm = params["kidId"].split("|")
    if sender_id != envelope["header"]["sender_id"]:
        raise SystemExit(f"Signed by {sender_id}, sent by {envelope['header']['sender_id']}.")
    jwk = next((k for k in jwks.get("keys", []) if k.get("kid") == kid), None)
    if jwk is None:
        raise SystemExit(f"The registry's JWKS has no key {kid}.")
    public = Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(jwk["x"] + "=="))
    if int(params["expires"]) < time.time():
        raise SystemExit("The answer's signature has expired.")
    body_digest = digest(envelope["header"], envelope.get("message"))
    try:
        public.verify(
            base64.b64decode(params["signature"]),
            signing_string(int(params["created"]), int(params["expires"]), body_digest),
        )
    except InvalidSignature:
        raise SystemExit("The answer's signature does not verify: do not trust it.") from None
    return params["kidId"]


# --- the search ----------------------------------------------------------------------------


def now_ts() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def predicate(attribute, operator, value) -> dict:
    return {
        "query_type": "predicate",
        "query": [
            {
                "seq_num": 1,
                "expression1": {
                    "attribute_name": attribute,
                    "operator": operator,
                    "attribute_value": value,
                },
            }
        ],
    }


def search_criteria(args) -> dict:
    if args.uin or args.id:
        id_type, value = ("UIN", args.uin) if args.uin else args.id
        criteria = {"query_type": "idtype-value", "query": {"type": id_type, "value": value}}
    elif args.surname:
        criteria = predicate("surname", "eq", args.surname)
    elif args.born_after:
        criteria = predicate("birth_date", "ge", args.born_after.isoformat())
    else:  # the households of the social registry
        criteria = {
            "query_type": "expression",
            "reg_record_type": "Group",
            "query": {
                "type": "ns:org:QueryType:expression",
                "value": {
                    "expression": {"collection": "Group", "query": {"group_size": {"$ge": 1}}}
                },
            },
        }
    if args.record_type:
        criteria["reg_record_type"] = args.record_type
    criteria["pagination"] = {"page_size": args.page_size, "page_number": args.page}
    return criteria


def envelope(criteria: dict, sender_id: str) -> tuple[dict, dict]:
    header = {
        "version": "1.0.0",
        "message_id": str(uuid.uuid4()),
        "message_ts": now_ts(),
        "action": "search",
        "sender_id": sender_id,
        "total_count": 1,
        "is_msg_encrypted": False,
    }
    message = {
        "transaction_id": str(uuid.uuid4()),
        "search_request": [
            {"reference_id": str(uuid.uuid4()), "timestamp": now_ts(), "search_criteria": criteria}
        ],
    }
    return header, message


def describe(record: dict) -> str:
    """One line per record, whatever its type."""
    person = (
        record.get("demographic_info")
        or record.get("personal_details")
        or record.get("member")
        or record
    )
    if isinstance(person.get("demographic_info"), dict):
        person = person["demographic_info"]
    name = person.get("name") or {}
    label = " ".join(
        part for part in (name.get("given_name"), name.get("surname")) if part
    ) or record.get("@type", "record")
    ids = record.get("identifier") or person.get("identifier") or record.get("group_identifier")
    ids = ", ".join(f"{i['identifier_type']} {i['identifier_value']}" for i in ids or [])
    extra = []
    if record.get("@type") == "Group":
        head = (record.get("group_head_info") or {}).get("demographic_info", {}).get("name", {})
        extra.append(f"head {head.get('given_name', '?')} {head.get('surname', '')}".rstrip())
        extra.append(f"{record.get('group_size')} members")
        label = record.get("address", {}).get("locality", "household")
    for key in ("sex", "birth_date", "death_date", "enrollment_status", "disability_status"):
        if record.get(key) or person.get(key):
            extra.append(f"{key} {record.get(key) or person.get(key)}")
    for programme in record.get("programme_identifier") or []:
        extra.append(f"programme {programme.get('programme_name')}")
    return f"  - {label} [{ids}] " + ", ".join(extra)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=os.environ.get("DCI_DEMO_URL", "http://127.0.0.1:8069"))
    parser.add_argument("--registry", choices=REGISTRIES, default="social")
    parser.add_argument("--client-id", default="demo-mis")
    parser.add_argument(
        "--client-secret",
        default=os.environ.get("DCI_DEMO_CLIENT_SECRET", DEMO_CLIENT_SECRET),
        help="default: $DCI_DEMO_CLIENT_SECRET, else the demo-only secret of spp_dci_demo",
    )
    parser.add_argument("--key", type=Path, default=ROOT / ".odoo" / "demo-mis-ed25519.pem")
    parser.add_argument("--jwks-port", type=int, default=8765, help="where we publish our JWKS")
    query = parser.add_mutually_exclusive_group()
    query.add_argument("--uin", help="idtype-value search by UIN")
    query.add_argument(
        "--id", nargs=2, metavar=("TYPE", "VALUE"), help="e.g. --id BRN DEMO-BRN-0003"
    )
    query.add_argument("--surname", help="predicate search: surname eq SURNAME")
    query.add_argument(
        "--born-after", type=date.fromisoformat, help="predicate: birth_date ge DATE"
    )
    parser.add_argument("--record-type", help="Person, Member or Group (social registry)")
    parser.add_argument("--page-size", type=int, default=10)
    parser.add_argument("--page", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print the raw answer (JSON) only")
    args = parser.parse_args(argv)

    root = f"{args.url.rstrip('/')}/dci/{args.registry}"
    key = load_or_create_key(args.key)
    jwk = public_jwk(key)
    jwks_server = serve_jwks({"keys": [jwk]}, args.jwks_port)
    log = (lambda *a: None) if args.json else print
    try:
        with httpx.Client(timeout=60) as http:
            jwks_url = f"http://127.0.0.1:{args.jwks_port}/.well-known/jwks.json"
            log(f"1. Our JWKS: {jwks_url} (kid {jwk['kid']})")
            response = http.post(
                f"{root}/oauth2/client/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": args.client_id,
                    "client_secret": args.client_secret,
                },
            )
            if response.status_code != 200:
                raise SystemExit(f"Token refused (HTTP {response.status_code}): {response.text}")
            token = response.json()
            log(f"2. Token for {args.client_id}: {token['scope']} ({token['expires_in']} s)")

            criteria = search_criteria(args)
            header, message = envelope(criteria, args.client_id)
            body = {
                "signature": sign(header, message, key, args.client_id, jwk["kid"]),
                "header": header,
                "message": message,
            }
            log(f"3. Signed {criteria['query_type']} search -> POST {root}/registry/sync/search")
            response = http.post(
                f"{root}/registry/sync/search",
                json=body,
                headers={"Authorization": f"Bearer {token['access_token']}"},
            )
            answer = response.json()
            if args.json:
                print(json.dumps(answer, indent=2, ensure_ascii=False))
            if response.status_code != 200 or answer.get("header", {}).get("status") != "succ":
                if not args.json:
                    print(json.dumps(answer, indent=2, ensure_ascii=False))
                raise SystemExit(f"The registry refused the search (HTTP {response.status_code}).")
            registry_jwks = http.get(f"{root}/.well-known/jwks.json").json()
            kid_id = verify(answer, registry_jwks)
            log(f"4. Answer signed by {kid_id}: signature verified with the registry's JWKS")
    finally:
        jwks_server.shutdown()
        jwks_server.server_close()
    for item in answer["message"]["search_response"]:
        if item["status"] != "succ":
            reason = f"{item.get('status_reason_code')} {item.get('status_reason_message', '')}"
            log(f"   item {item['status']}: {reason}")
            continue
        records = item.get("data", {}).get("reg_records") or []
        records = [records] if isinstance(records, dict) else records
        page = item.get("pagination", {})
        log(
            f"   {item['data'].get('reg_record_type')}: {len(records)} record(s) on page "
            f"{page.get('page_number')} ({page.get('total_count')} in all)"
        )
        for record in records:
            log(describe(record))
    return 0


if __name__ == "__main__":
    sys.exit(main())
