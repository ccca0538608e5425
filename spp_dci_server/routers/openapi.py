"""The OpenAPI document of a DCI endpoint (``/docs``, ``/redoc``, ``/openapi.json``).

The routes read raw bodies (see dci.py), so FastAPI cannot infer their
schemas; they are added here from the spp_dci pydantic models: request
envelope, reply (sync envelope or ACK) and ``HttpErrorResponse`` for 401/403;
the search paths also take the ``multipart/form-data`` file search
(openapi_files.py).
Every error status we answer is declared with the body we answer it with
(``services/replies.error_reply``): the DCI body and the ``ErrorMembers``
(``errors`` and RFC 9457 ``type``, ``title``, ``status``, ``detail``); the token
endpoint's add the RFC 6749 ``error``. No route takes FastAPI-validated
parameters, so FastAPI's 422 is never answered and is not declared.
"""

import logging

from fastapi.openapi.utils import get_openapi
from pydantic.json_schema import models_json_schema

from odoo.addons.fastapi.context import odoo_env_ctx
from odoo.addons.spp_dci.dci.schemas.actions import ENDPOINTS
from odoo.addons.spp_dci.dci.schemas.common import HttpErrorResponse, Response

from ..services.context import DCIContext
from ..services.file_search import FILE_SEARCH_PATHS
from ..services.multipart import MULTIPART_TYPE
from ..services.paths import RECEIVER_PATHS, REGISTRY_PATHS
from .openapi_files import FILE_SEARCH_BODY, FILE_SEARCH_SCHEMAS

_logger = logging.getLogger(__name__)

REF = "#/components/schemas/{model}"

# errors.problem_members, beside every error body
ERROR_MEMBERS = {
    "type": "object",
    "required": ["errors", "type", "title", "status", "detail"],
    "properties": {
        "errors": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
            },
        },
        "type": {"type": "string", "format": "uri-reference"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
    },
}
OAUTH_ERRORS = (
    "invalid_request",
    "invalid_client",
    "unsupported_grant_type",
    "invalid_scope",
    "unauthorized_client",
)
TOKEN_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {"type": "string", "enum": list(OAUTH_ERRORS)},
        "error_description": {"type": "string"},
    },
}
# What a registry or receiver path answers besides 200/401/403 (see services/checks.py,
# auth.py, the receivers): bad input, unknown transaction (receivers), duplicate
# message_id, too large, not JSON, rate limit, internal error.
ERROR_STATUSES = ("400", "404", "409", "413", "415", "429", "503")
TOKEN_STATUSES = ("400", "401", "413", "429", "503")
ERROR_REF = {"$ref": REF.format(model="ErrorMembers")}
# The RFC 9421 request signature (services/http_signatures.py): optional unless the
# sender (or, on a receiver path, the data source) requires it.
HTTP_SIGNATURE_HEADERS = [
    {
        "name": "Signature-Input",
        "in": "header",
        "required": False,
        "schema": {"type": "string"},
        "description": 'RFC 9421 signature parameters, e.g. `sig1=("@method" "@authority" '
        '"@path" "content-type" "content-digest");created=...;keyid="<kid>"`; '
        "must cover @method, @authority, @path and content-digest; keyid is a kid of "
        "your registered keys or JWKS. When present the signature is verified "
        "(err.signature.invalid, 401); a sender may be required to send one "
        "(err.signature.missing, 401).",
    },
    {
        "name": "Signature",
        "in": "header",
        "required": False,
        "schema": {"type": "string"},
        "description": "RFC 9421 signature, e.g. `sig1=:<base64>:` (with Signature-Input; "
        "alone it is not an RFC 9421 signature and is ignored).",
    },
    {
        "name": "Content-Digest",
        "in": "header",
        "required": False,
        "schema": {"type": "string"},
        "description": "RFC 9530 digest of the body (`sha-256=:<base64>:` or sha-512), "
        "covered by the RFC 9421 signature and checked against the body.",
    },
]


def _schemas(models):
    mapping, definitions = models_json_schema(models, ref_template=REF)
    return mapping, definitions.get("$defs", {})


def _json(schema, description):
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def build_openapi(app, config):
    schema = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
        tags=app.openapi_tags,
    )
    components = schema.setdefault("components", {})
    components.setdefault("securitySchemes", {})["Authorization"] = {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "jwt",
        "description": "Access token from POST /oauth2/client/token (client credentials).",
    }
    paths = [p for p in (*REGISTRY_PATHS, *RECEIVER_PATHS) if p in ENDPOINTS]
    wanted = [(HttpErrorResponse, "serialization"), (Response, "serialization")]
    for path in paths:
        endpoint = ENDPOINTS[path]
        wanted += [
            (endpoint.request_envelope, "validation"),
            (endpoint.reply_model, "serialization"),
        ]
    try:
        mapping, definitions = _schemas(list(dict.fromkeys(wanted)))
    except Exception:  # docs must never break the API
        _logger.exception("DCI: cannot generate the OpenAPI schemas of %s", config.root_path)
        return schema
    components.setdefault("schemas", {}).update(definitions)
    components["schemas"]["ErrorMembers"] = ERROR_MEMBERS
    components["schemas"]["OAuth2ErrorResponse"] = TOKEN_ERROR
    components["schemas"].update(FILE_SEARCH_SCHEMAS)
    error = _json(
        {"allOf": [mapping[(HttpErrorResponse, "serialization")], ERROR_REF]},
        "HttpErrorResponse with the RFC 9457 members",
    )
    for path in paths:
        endpoint = ENDPOINTS[path]
        operation = schema["paths"].get(path, {}).get("post")
        if operation is None:
            continue
        operation["requestBody"] = {
            "required": True,
            "content": {
                "application/json": {"schema": mapping[(endpoint.request_envelope, "validation")]}
            },
        }
        if path in FILE_SEARCH_PATHS:
            operation["requestBody"]["content"][MULTIPART_TYPE] = FILE_SEARCH_BODY
        reply = mapping[(endpoint.reply_model, "serialization")]
        # error_reply: a signed rjct envelope on sync paths with one, else an ERR ACK
        enveloped = endpoint.is_sync and endpoint.reply_action
        refusal = _json(
            {"allOf": [reply if enveloped else mapping[(Response, "serialization")], ERROR_REF]},
            "Rejection: signed rjct envelope" if enveloped else "Rejection: ERR acknowledgement",
        )
        operation["responses"] = {
            "200": _json(reply, "Reply" if endpoint.is_sync else "Acknowledgement"),
            "401": error,
            "403": error,
            **dict.fromkeys(ERROR_STATUSES, refusal),
            "default": refusal,
        }
        operation["security"] = [{"Authorization": []}]
        operation["parameters"] = [*operation.get("parameters", []), *HTTP_SIGNATURE_HEADERS]
    token_error = _json(
        {
            "allOf": [
                mapping[(HttpErrorResponse, "serialization")],
                ERROR_REF,
                {"$ref": REF.format(model="OAuth2ErrorResponse")},
            ]
        },
        "RFC 6749 error with the DCI errors and the RFC 9457 members",
    )
    token = schema["paths"].get("/oauth2/client/token", {}).get("post")
    if token is not None:
        token["requestBody"] = {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "required": ["grant_type", "client_id", "client_secret"],
                        "properties": {
                            "grant_type": {"type": "string", "enum": ["client_credentials"]},
                            "client_id": {"type": "string"},
                            "client_secret": {"type": "string"},
                            "scope": {"type": "string", "description": "space separated"},
                        },
                    }
                }
            },
        }
        token["responses"] = {
            "200": _json(
                {
                    "type": "object",
                    "required": ["access_token", "token_type"],
                    "properties": {
                        "access_token": {"type": "string"},
                        "token_type": {"type": "string"},
                        "expires_in": {"type": "string"},
                        "scope": {"type": "string"},
                    },
                },
                "OAuth2ClientTokenResponse",
            ),
            **dict.fromkeys(TOKEN_STATUSES, token_error),
            "default": token_error,
        }
    jwks = schema["paths"].get("/.well-known/jwks.json", {}).get("get")
    if jwks is not None:
        jwks["responses"] = {
            "200": _json(
                {
                    "type": "object",
                    "required": ["keys"],
                    "properties": {"keys": {"type": "array", "items": {"type": "object"}}},
                },
                "JWKS (RFC 7517)",
            ),
            "default": error,
        }
    _drop_validation_errors(schema)
    return schema


def _drop_validation_errors(schema):
    """FastAPI's 422 (and its schemas): our routes read raw requests, it never happens."""
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            if isinstance(operation, dict):
                operation.get("responses", {}).pop("422", None)
    schemas = schema.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)


def with_receiver_id(schema, config):
    """``schema`` with ``info.x-dci-receiver-id``: the id to put in ``header.receiver_id``.

    Read at each request (the system-wide sender id may change without the app
    being rebuilt), so a peer learns it before onboarding, without a token.
    """
    env = odoo_env_ctx.get(None)
    if env is None:
        return schema
    our_id = DCIContext(env, config).our_id
    return {**schema, "info": {**schema.get("info", {}), "x-dci-receiver-id": our_id}}


def install_openapi(app, config):
    def openapi():
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app, config)
        return with_receiver_id(app.openapi_schema, config)

    app.openapi = openapi
