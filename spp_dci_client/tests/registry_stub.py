# Part of OpenSPP. See LICENSE file for full copyright and licensing details.
"""A minimal, independent DCI 1.0.0 registry for the client tests.

A plain ``http.server`` in a thread on 127.0.0.1, written from the spec and
*not* from spp_dci: it signs and verifies the DCI body signature with its own
code (RFC 8785 via ``rfc8785``, Ed25519 via ``cryptography``), so a test
passing means the client interoperates with a peer that only shares the spec.
It checks every request we send against the OpenAPI file (``spp_dci.dci.spec``,
``$DCI_SPEC_DIR``) and records what it saw; tests assert on those records.

Misbehaviour is switched on per test through attributes (``mode``, ``delay``,
``fail_next``...): garbage, spec-invalid JSON, forged or expired signatures,
unsigned answers, slow answers, 503s and dropped connections.
"""

import base64
import datetime
import hashlib
import http.server
import json
import re
import ssl
import tempfile
import threading
import time
import uuid
from urllib.parse import parse_qs, urlsplit

import httpx
import rfc8785
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import NameOID

from odoo.addons.spp_dci.dci import spec

SPEC = "social"
#: Registry-specific paths and the spec that defines them.
SPEC_OF_PATH = {"/registry/sync/disabled": "dr"}


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _now_iso(delta=0) -> str:
    value = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=delta)
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _digest(header, message) -> str:
    canonical = rfc8785.dumps({"header": header, "message": message})
    return "SHA-256=" + base64.b64encode(hashlib.sha256(canonical).digest()).decode("ascii")


def sign(header, message, private_key, sender_id, kid, *, created=None, ttl=600) -> str:
    """A DCI body signature, built the way the spec's MsgSignature example reads."""
    created = int(time.time()) if created is None else int(created)
    expires = created + ttl
    signing_string = (
        f"(created): {created}\n(expires): {expires}\ndigest: {_digest(header, message)}"
    )
    raw = private_key.sign(signing_string.encode("utf-8"))
    return (
        f'Signature: namespace="spdci", kidId="{sender_id}|{kid}|ed25519", algorithm="ed25519", '
        f'created="{created}", expires="{expires}", headers="(created) (expires) digest", '
        f'signature="{base64.b64encode(raw).decode("ascii")}"'
    )


_PARAM = re.compile(r'(\w+)="([^"]*)"')


def http_sign(url, headers, body, private_key, kid, *, created=None, ttl=300) -> dict:
    """RFC 9421 headers (``Content-Digest``, ``Signature-Input``, ``Signature``) for a POST.

    Built from RFC 9421 section 2.5 and RFC 9530: the signature base lists each
    covered component as ``"name": value`` and ends with ``"@signature-params"``.
    """
    parts = urlsplit(url)
    digest = "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode() + ":"
    created = int(created or time.time())
    params = (
        '("@method" "@authority" "@path" "content-type" "content-digest")'
        f';created={created};expires={created + ttl};keyid="{kid}";alg="ed25519"'
    )
    base = "\n".join(
        [
            '"@method": POST',
            f'"@authority": {parts.netloc.lower()}',
            f'"@path": {parts.path or "/"}',
            f'"content-type": {headers["Content-Type"]}',
            f'"content-digest": {digest}',
            f'"@signature-params": {params}',
        ]
    )
    signature = base64.b64encode(private_key.sign(base.encode())).decode()
    return {
        "Content-Digest": digest,
        "Signature-Input": f"sig1={params}",
        "Signature": f"sig1=:{signature}:",
    }


def verify(envelope, public_keys) -> str | None:
    """Check a DCI body signature; returns an error text or None when valid."""
    signature = envelope.get("signature")
    if not signature:
        return "not signed"
    params = dict(_PARAM.findall(signature))
    try:
        sender_id, kid, algorithm = params["kidId"].split("|")
        created, expires = int(params["created"]), int(params["expires"])
        raw = base64.b64decode(params["signature"])
    except (KeyError, ValueError):
        return "malformed signature"
    if sender_id != envelope["header"].get("sender_id"):
        return "signer is not header.sender_id"
    if algorithm != "ed25519" or kid not in public_keys:
        return f"unknown key {kid}"
    if expires < time.time() - 60:
        return "expired"
    digest = _digest(envelope["header"], envelope["message"])
    signing_string = f"(created): {created}\n(expires): {expires}\ndigest: {digest}"
    try:
        public_keys[kid].verify(raw, signing_string.encode("utf-8"))
    except Exception:
        return "bad signature"
    return None


def person(number):
    return {
        "@type": "SRPerson",
        "identifier": [{"identifier_type": "UIN", "identifier_value": f"UIN-{number:04d}"}],
        "name": {"given_name": f"Given{number}", "surname": f"Family{number}"},
        "sex": "female" if number % 2 else "male",
        "birth_date": "1990-01-01",
    }


def self_signed_certificate(directory):
    """A throw-away TLS certificate for 127.0.0.1 (for the TLS failure test)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(__import__("ipaddress").ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path = f"{directory}/cert.pem"
    key_path = f"{directory}/key.pem"
    with open(cert_path, "wb") as handle:
        handle.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as handle:
        handle.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    return cert_path, key_path


class StubRegistry:
    """The registry's state and behaviour; ``start()`` serves it, ``stop()`` ends it."""

    #: the spec bundle our requests and its answers are checked against (None: by path)
    spec_name = None

    def __init__(self, *, sender_id="stub.registry.test", client_keys=None, records=7, tls=False):
        self.sender_id = sender_id
        self.key = ed25519.Ed25519PrivateKey.generate()
        self.kid = "stub-key-1"
        self.instance_id = uuid.uuid4().hex
        self.published = {self.kid: self.key.public_key()}
        #: our (the client's) public keys, kid -> Ed25519PublicKey
        self.client_keys = dict(client_keys or {})
        self.records = [person(i) for i in range(1, records + 1)]
        self.tls = tls
        # behaviour switches
        # ok | garbage | invalid | forged | expired | unsigned | placeholder | rjct | wrong_txn
        self.mode = "ok"
        self.delay = 0.0
        self.delays = []  # per DCI request (not the token endpoint), consumed in turn
        self.fail_next = []  # "503" or "drop", consumed one per request
        #: refuse a message_id seen before with 409 rjct.message_id.duplicate (it is
        #: recorded on receipt) instead of repeating the first answer
        self.refuse_duplicates = False
        self.no_txn_status = False  # answer 404 on the txn/status paths (as dr has none)
        #: answer 404 on GET /.well-known/jwks.json (a registry that does not sign)
        self.no_jwks = False
        #: answer searches and txn status with an empty (spec-valid) search_response list
        self.empty_answers = False
        self.auth = None  # None | ("bearer", token) | ("oauth2", client_id, secret)
        self.token_lifetime = 3600
        self.accept_tokens = True
        self.jwks_cache_control = "max-age=300"
        #: (token_url, client_id, secret) to authenticate our callbacks, or None
        self.callback_auth = None
        #: RFC 9421 signature on our callbacks: None (none) | "ok" | "corrupt"
        self.http_signature = None
        # what happened
        self.tokens = set()
        self.token_requests = 0
        self.requests = []  # (path, body) of DCI requests
        self.spec_errors = []  # our requests that do not match the spec
        self.signature_errors = []  # our requests whose signature did not verify
        self.reply_errors = []  # the stub's own replies that do not match the spec (a broken test)
        self.pending = []  # async requests waiting for their callback
        self.message_ids = set()  # received, when refuse_duplicates
        self.correlations = {}  # transaction_id -> our correlation_id, set on receipt
        self.in_progress = set()  # transaction_ids received and not answered yet
        self.subscriptions = {}
        self._lock = threading.Lock()
        self._server = None
        self._thread = None
        self._tmp = None

    # -- life cycle ------------------------------------------------------------------

    def start(self):
        registry = self

        class Handler(_Handler):
            stub = registry

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        if self.tls:
            self._tmp = tempfile.TemporaryDirectory()
            cert, key = self_signed_certificate(self._tmp.name)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, key)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="dci-stub-registry", daemon=True
        )
        self._thread.start()
        return self

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(5)
        if self._tmp is not None:
            self._tmp.cleanup()

    @property
    def url(self):
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self._server.server_address[1]}"

    @property
    def jwks_url(self):
        # Unique per stub: a later stub may reuse the port, and the process-wide JWKS
        # cache must not serve it the keys of an earlier stub with the same kids.
        return f"{self.url}/.well-known/jwks.json?stub={self.instance_id}"

    # -- keys ------------------------------------------------------------------------

    def jwks(self):
        keys = []
        for kid, public in self.published.items():
            raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            keys.append(
                {
                    "kty": "OKP",
                    "crv": "Ed25519",
                    "x": _b64url(raw),
                    "kid": kid,
                    "alg": "EdDSA",
                    "use": "sig",
                }
            )
        return {"keys": keys}

    def rotate(self, *, publish_old=True, kid=None):
        """Sign with a new key from now on (published in the JWKS at once)."""
        self.key = ed25519.Ed25519PrivateKey.generate()
        self.kid = kid or f"stub-key-{len(self.published) + 1}"
        if not publish_old:
            self.published.clear()
        self.published[self.kid] = self.key.public_key()

    def prepublish(self, kid):
        """Publish a next key before it is used; ``rotate_to(kid)`` starts using it."""
        private = ed25519.Ed25519PrivateKey.generate()
        self.published[kid] = private.public_key()
        self._next = (kid, private)

    def rotate_to(self, kid):
        next_kid, private = self._next
        assert next_kid == kid
        self.kid, self.key = kid, private

    def envelope(self, header, message, *, mode=None):
        """A signed envelope; ``mode`` forged/expired/unsigned makes it bad on purpose."""
        mode = mode or self.mode
        envelope = {"header": header, "message": message}
        if mode == "unsigned":
            return envelope
        if mode == "placeholder":  # a string, so spec-valid, but no DCI signature
            return {"signature": "signature-placeholder", **envelope}
        if mode == "forged":  # right kid, wrong key: what an impostor can do
            envelope["signature"] = sign(
                header, message, ed25519.Ed25519PrivateKey.generate(), self.sender_id, self.kid
            )
        elif mode == "expired":
            envelope["signature"] = sign(
                header, message, self.key, self.sender_id, self.kid, created=time.time() - 7200
            )
        else:
            envelope["signature"] = sign(header, message, self.key, self.sender_id, self.kid)
        return {"signature": envelope.pop("signature"), **envelope}

    # -- answers ---------------------------------------------------------------------

    def _callback_header(self, action, request_header, count):
        return {
            "version": "1.0.0",
            "message_id": str(uuid.uuid4()),
            "message_ts": _now_iso(),
            "action": action,
            "status": "succ",
            "total_count": count,
            "completed_count": count,
            "sender_id": self.sender_id,
            "receiver_id": request_header.get("sender_id"),
            "is_msg_encrypted": False,
        }

    def _matches(self, criteria):
        query = criteria.get("query")
        if criteria.get("query_type") == "idtype-value":
            return [
                r
                for r in self.records
                if any(i["identifier_value"] == query.get("value") for i in r["identifier"])
            ]
        return list(self.records)  # expression / predicate: the stub returns everything

    def search_items(self, request, page=None):
        """The items answering ``request``; ``page`` ``{page_size, page_number}``: the page
        the stub pushes of its own accord when the request asked for none."""
        if self.empty_answers:
            return []
        items = []
        for search in request["message"]["search_request"]:
            criteria = search["search_criteria"]
            matches = self._matches(criteria)
            pagination = (
                criteria.get("pagination")
                or page
                or {
                    "page_size": max(len(matches), 1),
                    "page_number": 1,
                }
            )
            size, number = pagination["page_size"], pagination.get("page_number", 1)
            page = matches[(number - 1) * size : number * size]
            items.append(
                {
                    "reference_id": search["reference_id"],
                    "timestamp": _now_iso(),
                    "status": "rjct" if self.mode == "rjct" else "succ",
                    **(
                        {"status_reason_code": "rjct.search_criteria.invalid"}
                        if self.mode == "rjct"
                        else {}
                    ),
                    "data": {
                        "version": "1.0.0",
                        "reg_type": criteria.get("reg_type") or "ns:org:RegistryType:Social",
                        "reg_record_type": "Person",
                        "reg_records": page,
                    },
                    "pagination": {
                        "page_size": size,
                        "page_number": number,
                        "total_count": len(matches),
                    },
                }
            )
        return items

    def on_search(self, request, correlation_id=None, page=None):
        items = self.search_items(request, page)
        header = self._callback_header("on-search", request["header"], len(items))
        transaction_id = request["message"]["transaction_id"]
        if self.mode == "wrong_txn":
            transaction_id = str(uuid.uuid4())
        message = {
            "transaction_id": transaction_id,
            "correlation_id": correlation_id or str(uuid.uuid4()),
            "search_response": items,
        }
        return header, message

    def txn_status(self, query):
        """``txnstatus_response`` of a search transaction: succeeded, with its first record.

        A request still being answered is ``pdng``, with the correlation_id it was given.
        """
        transaction_id = query["attribute_value"]
        correlation_id = self.correlations.get(transaction_id) or str(uuid.uuid4())
        if self.empty_answers:
            return {
                "txn_type": "search",
                "txn_status": {
                    "transaction_id": transaction_id,
                    "correlation_id": correlation_id,
                    "search_response": [],
                },
            }
        if transaction_id in self.in_progress:
            item = {"reference_id": str(uuid.uuid4()), "timestamp": _now_iso(), "status": "pdng"}
            return {
                "txn_type": "search",
                "txn_status": {
                    "transaction_id": transaction_id,
                    "correlation_id": correlation_id,
                    "search_response": [item],
                },
            }
        return {
            "txn_type": "search",
            "txn_status": {
                "transaction_id": transaction_id,
                "correlation_id": correlation_id,
                "search_response": [
                    {
                        "reference_id": str(uuid.uuid4()),
                        "timestamp": _now_iso(),
                        "status": "succ",
                        "data": {
                            "version": "1.0.0",
                            "reg_type": "ns:org:RegistryType:Social",
                            "reg_record_type": "Person",
                            "reg_records": [self.records[0]],
                        },
                    }
                ],
            },
        }

    @staticmethod
    def ack(correlation_id):
        return {
            "message": {
                "ack_status": "ACK",
                "timestamp": _now_iso(),
                "correlation_id": correlation_id,
            }
        }

    # -- the HTTP side ---------------------------------------------------------------

    def _spec_for(self, path):
        return self.spec_name or SPEC_OF_PATH.get(path, SPEC)

    def requests_to(self, path):
        """The bodies of the DCI requests we sent to ``path``."""
        return [body for seen, body in self.requests if seen == path]

    def check_request(self, path, body, headers):
        """Spec, signature and token of a request; returns (status, error body) or None."""
        self.requests.append((path, body))
        errors = spec.request_errors(self._spec_for(path), path, body)
        if errors:
            self.spec_errors.append((path, errors))
        if self.auth is not None:
            token = (headers.get("Authorization") or "").removeprefix("Bearer ")
            valid = token == self.auth[1] if self.auth[0] == "bearer" else token in self.tokens
            if not valid or not self.accept_tokens:
                return 401, {
                    "errors": [
                        {"code": "err.request.unauthorized", "message": "invalid access token"}
                    ]
                }
        problem = verify(body, self.client_keys)
        if problem:
            self.signature_errors.append((path, problem))
            return 401, {"errors": [{"code": "err.signature.invalid", "message": problem}]}
        return None

    def reply(self, path, status, body):
        if status == 200 and self.mode == "ok":
            errors = spec.response_errors(self._spec_for(path), path, body, status)
            if errors:
                self.reply_errors.append((path, errors))
        return status, body

    def receive(self, path, body):
        """On receipt of a DCI request: its correlation_id; (status, body) of a duplicate."""
        header = body.get("header") or {}
        transaction_id = (body.get("message") or {}).get("transaction_id")
        if self.refuse_duplicates:
            message_id = header.get("message_id")
            with self._lock:
                duplicate = message_id in self.message_ids
                self.message_ids.add(message_id)
            if duplicate:
                self.requests.append((path, body))
                text = f"rjct.message_id.duplicate: message_id {message_id} was already received"
                if path.startswith("/registry/sync/"):
                    error = {"code": "rjct.message_id.duplicate", "message": text}
                    return 409, {"errors": [error]}
                return 409, {
                    "message": {
                        "ack_status": "ERR",
                        "timestamp": _now_iso(),
                        "correlation_id": str(uuid.uuid4()),
                        "error": {"code": "err.request.bad", "message": text},
                    }
                }
        if transaction_id:
            self.correlations.setdefault(transaction_id, str(uuid.uuid4()))
            self.in_progress.add(transaction_id)
        return None

    def handle_token(self, form):
        self.token_requests += 1
        if (
            self.auth is None
            or self.auth[0] != "oauth2"
            or form.get("grant_type") != "client_credentials"
            or form.get("client_id") != self.auth[1]
            or form.get("client_secret") != self.auth[2]
        ):
            return 401, {"error": "invalid_client"}
        token = f"token-{uuid.uuid4().hex}"
        self.tokens.add(token)
        return 200, {
            "access_token": token,
            "token_type": "bearer",
            "expires_in": str(self.token_lifetime),
        }

    def handle(self, path, body, headers):
        """Dispatch a DCI POST; returns (status, json body)."""
        refused = self.check_request(path, body, headers)
        if refused:
            return refused
        header = body["header"]
        if self.no_txn_status and path.endswith("/txn/status"):
            return 404, {"errors": [{"code": "err.request.not_found", "message": path}]}
        if path == "/registry/sync/search":
            h, m = self.on_search(body)
            return self.reply(path, 200, self.envelope(h, m))
        if path in (
            "/registry/search",
            "/registry/subscribe",
            "/registry/unsubscribe",
            "/registry/txn/status",
        ):
            correlation_id = self.correlations.get(body["message"]["transaction_id"])
            correlation_id = correlation_id or str(uuid.uuid4())
            if self.mode == "err_ack":
                return 400, {
                    "message": {
                        "ack_status": "ERR",
                        "timestamp": _now_iso(),
                        "correlation_id": correlation_id,
                        "error": {"code": "err.request.bad", "message": "query not supported"},
                    }
                }
            with self._lock:
                self.pending.append(
                    {"path": path, "request": body, "correlation_id": correlation_id}
                )
            return self.reply(path, 200, self.ack(correlation_id))
        if path == "/registry/sync/disabled":
            h = self._callback_header("on-search", header, 1)
            m = {
                "transaction_id": body["message"]["transaction_id"],
                "correlation_id": str(uuid.uuid4()),
                "disabled_response": [
                    {
                        "reference_id": str(uuid.uuid4()),
                        "timestamp": _now_iso(),
                        "status": "succ",
                        "disabled_status": "yes",
                    }
                ],
            }
            return self.reply(path, 200, self.envelope(h, m))
        if path == "/registry/sync/txn/status":
            h = self._callback_header("txn-on-status", header, 1)
            m = {
                "transaction_id": body["message"]["transaction_id"],
                "correlation_id": str(uuid.uuid4()),
                "txnstatus_response": self.txn_status(body["message"]["txnstatus_request"]),
            }
            return self.reply(path, 200, self.envelope(h, m))
        return 404, {"errors": [{"code": "err.request.not_found", "message": path}]}

    # -- callbacks (delivered from the test thread, over real HTTP) -------------------

    def callback_for(self, pending, **overrides):
        """``(url, envelope)`` of the callback answering one pending async request."""
        request = pending["request"]
        header_in = request["header"]
        mode = overrides.pop("mode", None)
        header_changes = overrides.pop("header", {})  # a value None leaves the field out
        correlation_id = overrides.pop("correlation_id", pending["correlation_id"])
        transaction_id = overrides.pop("transaction_id", request["message"]["transaction_id"])
        if pending["path"] == "/registry/search":
            h, m = self.on_search(request, correlation_id, overrides.pop("page", None))
            m["transaction_id"] = transaction_id
        elif pending["path"] == "/registry/subscribe":
            h = self._callback_header("on-subscribe", header_in, 1)
            subs = []
            for item in request["message"]["subscribe_request"]:
                code = f"SUB-{uuid.uuid4().hex[:8]}"
                criteria = item["subscribe_criteria"]
                self.subscriptions[code] = criteria
                subs.append(
                    {
                        "code": code,
                        "status": "subscribe",
                        "timestamp": _now_iso(),
                        "reg_event_type": criteria["reg_event_type"],
                        "notify_record_type": criteria["notify_record_type"],
                    }
                )
            m = {
                "transaction_id": transaction_id,
                "correlation_id": correlation_id,
                "subscribe_response": [
                    {
                        "reference_id": request["message"]["subscribe_request"][0]["reference_id"],
                        "timestamp": _now_iso(),
                        "status": "succ",
                        "subscriptions": subs,
                    }
                ],
            }
        elif pending["path"] == "/registry/unsubscribe":
            h = self._callback_header("on-unsubscribe", header_in, 1)
            m = {
                "transaction_id": transaction_id,
                "correlation_id": correlation_id,
                "timestamp": _now_iso(),
                "status": "succ",
                "subscription_status": [
                    {"code": code, "status": "unsubscribe"}
                    for code in request["message"]["subscription_codes"]
                ],
            }
        elif pending["path"] == "/registry/txn/status":
            h = self._callback_header("txn-on-status", header_in, 1)
            m = {
                "transaction_id": transaction_id,
                "correlation_id": correlation_id,
                "txnstatus_response": self.txn_status(request["message"]["txnstatus_request"]),
            }
        else:
            raise AssertionError(f"no callback for {pending['path']}")
        for name, value in header_changes.items():
            if value is None:
                h.pop(name, None)
            else:
                h[name] = value
        return header_in.get("sender_uri"), self.envelope(h, m, mode=mode)

    def deliver(self, pending=None, url=None, **overrides):
        """POST the callback of ``pending`` (default: the oldest) to its sender_uri."""
        with self._lock:
            if pending is None:
                pending = self.pending.pop(0)
        sender_uri, envelope = self.callback_for(pending, **overrides)
        return self.post(url or sender_uri, envelope)

    def notify(self, url, records, *, mode=None, reg_event_type="REGISTER"):
        """POST a ``notify`` (one event per record) to our receiver; returns the response."""
        header = {
            "version": "1.0.0",
            "message_id": str(uuid.uuid4()),
            "message_ts": _now_iso(),
            "action": "notify",
            "status": "succ",
            "total_count": len(records),
            "completed_count": len(records),
            "sender_id": self.sender_id,
            "is_msg_encrypted": False,
        }
        message = {
            "transaction_id": str(uuid.uuid4()),
            "notify_event": [
                {
                    "reference_id": str(uuid.uuid4()),
                    "timestamp": _now_iso(),
                    "data": {
                        "version": "1.0.0",
                        "reg_type": "ns:org:RegistryType:Social",
                        "reg_event_type": reg_event_type,
                        "reg_record_type": "Person",
                        "reg_records": record,
                    },
                }
                for record in records
            ],
        }
        return self.post(url, self.envelope(header, message, mode=mode))

    def post(self, url, envelope, *, token=True):
        """POST a callback, with a bearer token from the caller's token endpoint when configured."""
        body = json.dumps(envelope).encode()
        headers = {"Content-Type": "application/json"}
        if self.http_signature:
            headers.update(http_sign(url, headers, body, self.key, self.kid))
            if self.http_signature == "corrupt":
                label, value = headers["Signature"].split("=:", 1)
                raw = bytearray(base64.b64decode(value.rstrip(":")))
                raw[-1] ^= 0x01
                headers["Signature"] = f"{label}=:{base64.b64encode(bytes(raw)).decode()}:"
        if token and self.callback_auth:
            headers["Authorization"] = f"Bearer {self.callback_token()}"
        return httpx.post(url, content=body, headers=headers, timeout=60)

    def callback_token(self):
        """OAuth2 client credentials against the caller's /oauth2/client/token (form-encoded)."""
        token_url, client_id, secret = self.callback_auth
        response = httpx.post(
            token_url,
            data={
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": secret,
            },
            timeout=60,
        )
        assert response.status_code == 200, response.text
        return response.json()["access_token"]


class _Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # a client that gave up (timeout tests) is expected; anything else is shown
        if not isinstance(__import__("sys").exc_info()[1], BrokenPipeError | ConnectionResetError):
            super().handle_error(request, client_address)


class _Handler(http.server.BaseHTTPRequestHandler):
    stub: StubRegistry
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # keep the test log clean
        pass

    def _send(self, status, body, *, content_type="application/json", headers=None):
        raw = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(raw)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self):
        if self.path.split("?", 1)[0] == "/.well-known/jwks.json" and not self.stub.no_jwks:
            return self._send(
                200, self.stub.jwks(), headers={"Cache-Control": self.stub.jwks_cache_control}
            )
        return self._send(404, {"errors": [{"code": "err.request.not_found"}]})

    def do_POST(self):
        stub = self.stub
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if stub.fail_next:
            failure = stub.fail_next.pop(0)
            if failure == "drop":
                self.close_connection = True
                self.connection.shutdown(2)
                return None
            stub.requests.append((self.path, None))
            return self._send(
                503, {"errors": [{"code": "err.service.unavailable", "message": "try later"}]}
            )
        delay = stub.delay
        if self.path == "/oauth2/client/token":
            time.sleep(delay)
            form = {key: values[0] for key, values in parse_qs(raw.decode("utf-8")).items()}
            return self._send(*stub.handle_token(form))
        if stub.mode == "garbage":
            time.sleep(delay)
            stub.requests.append((self.path, None))
            return self._send(
                200, b"<html><body>Welcome to nginx!</body></html>", content_type="text/html"
            )
        body = json.loads(raw)
        refused = stub.receive(self.path, body)
        if refused:
            return self._send(*refused)
        time.sleep(stub.delays.pop(0) if stub.delays else delay)
        try:
            status, answer = stub.handle(self.path, body, self.headers)
        finally:
            stub.in_progress.discard((body.get("message") or {}).get("transaction_id"))
        if stub.mode == "invalid" and status == 200:
            answer = {
                "header": {"action": "on-search", "sender_id": stub.sender_id},
                "message": {"records": []},
            }
        return self._send(status, answer)
