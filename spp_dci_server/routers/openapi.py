"""The OpenAPI document of a DCI endpoint (``/docs``, ``/redoc``, ``/openapi.json``).

The routes read raw bodies (see dci.py), so FastAPI cannot infer their
schemas; they are added here from the spp_dci pydantic models: request
envelope, reply (sync envelope or ACK) and ``HttpErrorResponse`` for 401/403.
"""

import logging

from fastapi.openapi.utils import get_openapi
from pydantic.json_schema import models_json_schema

from odoo.addons.spp_dci.dci.schemas.actions import ENDPOINTS
from odoo.addons.spp_dci.dci.schemas.common import HttpErrorResponse

from ..services.paths import RECEIVER_PATHS, REGISTRY_PATHS

_logger = logging.getLogger(__name__)

REF = "#/components/schemas/{model}"


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
    wanted = [(HttpErrorResponse, "serialization")]
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
    error = _json(mapping[(HttpErrorResponse, "serialization")], "HttpErrorResponse")
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
        reply = mapping[(endpoint.reply_model, "serialization")]
        operation["responses"] = {
            "200": _json(reply, "Reply" if endpoint.is_sync else "Acknowledgement"),
            "401": error,
            "403": error,
            "default": _json(reply, "Rejection (ERR acknowledgement or rjct envelope)"),
        }
        operation["security"] = [{"Authorization": []}]
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
            "default": error,
        }
    return schema


def install_openapi(app, config):
    def openapi():
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app, config)
        return app.openapi_schema

    app.openapi = openapi
