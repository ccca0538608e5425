"""Read the DCI 1.0.0 spec files and validate JSON bodies against them.

For tests and tools, not for request handling: the spec files are not shipped
with the addon. They are looked up in ``$DCI_SPEC_DIR``, else in
``<repo root>/../shared/dci-spec``. yaml, jsonschema, referencing and
openapi-schema-validator are imported only when a spec is loaded or used.

Two spec defects are worked around here (see the addon README):
- fr ``/registry/on-subscribe`` has ``post: null`` with the operation's keys one
  level too high; the path item itself is read as the operation.
- ibr ``/registry/sync/enrolled`` and ``/sync/enrollment/updates`` reference a
  schema where a response object belongs; that schema is the response body.
"""

import json
import os
import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from urllib.parse import urlsplit

ENV_VAR = "DCI_SPEC_DIR"
#: spp_dci/dci/spec.py -> the repository root.
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SPEC_DIR = REPO_ROOT.parent / "shared" / "dci-spec"

REGISTRIES = ("social", "crvs", "ibr", "dr", "fr")
SPEC_FILES = {
    "social": "openapi/social_api_v1.0.0.yaml",
    "crvs": "openapi/crvs_api_v1.0.0.yaml",
    "ibr": "openapi/ibr_api_v1.0.0.yaml",
    "dr": "openapi/dr_api_v1.0.0.yaml",
    "fr": "openapi/fr_api_v1.0.0.yaml",
    "authz": "spdci-standards/release/yaml/authz_core_api_v1.0.0.yaml",
    "jwks": "spdci-standards/release/yaml/jwks_core_api_v1.0.0.yaml",
    "locations": "spdci-standards/release/yaml/locations_core_api_v1.0.0.yaml",
}
SAMPLES_SUBDIR = "spdci-standards/release/sample-jsons/assets/example_files"
JSON = "application/json"


class SpecNotFoundError(FileNotFoundError):
    """The spec directory or file is missing."""


class SpecValidationError(AssertionError):
    """A body does not match the spec; ``errors`` lists ``<json path>: <reason>``."""

    def __init__(self, where, errors):
        self.where = where
        self.errors = errors
        shown = "\n  ".join(errors[:10])
        more = f"\n  ... and {len(errors) - 10} more" if len(errors) > 10 else ""
        super().__init__(f"{where} does not match the spec:\n  {shown}{more}")


def spec_dir() -> Path:
    """The DCI spec directory: ``$DCI_SPEC_DIR`` or ``<repo>/../shared/dci-spec``."""
    path = Path(os.environ.get(ENV_VAR) or DEFAULT_SPEC_DIR)
    if not (path / "openapi").is_dir():
        raise SpecNotFoundError(
            f"DCI spec files not found in {path}; set {ENV_VAR} to the directory "
            "holding openapi/ and spdci-standards/"
        )
    return path


def spec_path(name) -> Path:
    """File of spec ``name`` (``social``, ``crvs``... or a path inside the spec dir)."""
    path = spec_dir() / SPEC_FILES.get(name, name)
    if not path.is_file():
        raise SpecNotFoundError(f"DCI spec file {path} not found ({ENV_VAR})")
    return path


def load_openapi(name) -> dict:
    """The parsed OpenAPI document of ``name`` (cached per file)."""
    return _load_yaml(str(spec_path(name)))


@lru_cache(maxsize=16)
def _load_yaml(path):
    import yaml

    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


# --- locating schemas inside a document ------------------------------------------


def _escape(token):
    return str(token).replace("~", "~0").replace("/", "~1")


def _resolve_pointer(document, pointer):
    node = document
    for token in pointer.lstrip("/").split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        node = node[int(token)] if isinstance(node, list) else node[token]
    return node


def operation_pointer(name, path, method="post") -> str:
    """JSON pointer of the operation object of ``method path`` in spec ``name``."""
    document = load_openapi(name)
    path_item = document.get("paths", {}).get(path)
    if path_item is None:
        raise KeyError(f"{path} is not a path of the {name} spec")
    pointer = f"/paths/{_escape(path)}"
    if path_item.get(method) is not None:
        return f"{pointer}/{method}"
    if method == "post" and "requestBody" in path_item:
        return pointer  # fr /registry/on-subscribe: operation mis-indented
    raise KeyError(f"{method.upper()} {path} is not defined in the {name} spec")


def request_pointer(name, path, content_type=JSON) -> str:
    """JSON pointer of the request body schema of ``POST path``."""
    return f"{operation_pointer(name, path)}/requestBody/content/{_escape(content_type)}/schema"


def response_pointer(name, path, status=200, content_type=JSON) -> str:
    """JSON pointer of the response body schema of ``POST path`` for ``status``."""
    document = load_openapi(name)
    responses_pointer = f"{operation_pointer(name, path)}/responses"
    responses = _resolve_pointer(document, responses_pointer)
    key = str(status) if str(status) in responses else "default"
    if key not in responses:
        raise KeyError(f"POST {path} of the {name} spec has no {status} response")
    pointer = f"{responses_pointer}/{key}"
    response = responses[key]
    if "$ref" in response:
        pointer = response["$ref"][1:]
        response = _resolve_pointer(document, pointer)
    if "content" not in response:
        return pointer  # ibr sync paths: a schema where a response object belongs
    return f"{pointer}/content/{_escape(content_type)}/schema"


def schema_pointer(name, schema_name) -> str:
    load_openapi(name)["components"]["schemas"][schema_name]  # KeyError if absent
    return f"/components/schemas/{_escape(schema_name)}"


# --- validation --------------------------------------------------------------------


@lru_cache(maxsize=256)
def _validator(file_path, pointer):
    # Lazy: only tests and tools validate against the spec.
    from jsonschema import FormatChecker
    from openapi_schema_validator import OAS30Validator, oas30_format_checker
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT4

    uri = Path(file_path).as_uri()
    resource = Resource(contents=_load_yaml(file_path), specification=DRAFT4)
    registry = Registry().with_resource(uri, resource)
    # "uri" is checked below as well: no optional format package is needed for it.
    checker = FormatChecker(formats=())
    for format_name, func in oas30_format_checker.checkers.items():
        checker.checkers[format_name] = func
    checker.checks("uri")(_is_uri)
    return OAS30Validator({"$ref": f"{uri}#{pointer}"}, registry=registry, format_checker=checker)


def _is_uri(value):
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return bool(parts.scheme and parts.netloc)


def _errors(name, pointer, instance):
    validator = _validator(str(spec_path(name)), pointer)
    found = []
    for error in sorted(validator.iter_errors(instance), key=lambda e: e.json_path):
        found.append(f"{error.json_path}: {_reason(error)}")
    return found


def _deepest(errors):
    """The error that got furthest into the instance (the closest oneOf branch)."""
    leaves = []
    for error in errors:
        leaves.extend(_deepest_leaves(error))
    return max(leaves, key=lambda e: len(e.absolute_path))


def _deepest_leaves(error):
    if not error.context:
        return [error]
    return [leaf for sub in error.context for leaf in _deepest_leaves(sub)]


def _reason(error):
    """One line; for oneOf/anyOf failures, the reason in the closest branch."""
    if error.context:
        inner = _deepest(error.context)
        return (
            f"no {error.validator} branch matches; closest: "
            f"{inner.json_path}: {inner.message[:200]}"
        )
    return error.message[:300]


def request_errors(name, path, body, content_type=JSON) -> list:
    """Reasons why ``body`` is not a valid request of ``POST path`` (empty if valid)."""
    return _errors(name, request_pointer(name, path, content_type), body)


def response_errors(name, path, body, status=200) -> list:
    """Reasons why ``body`` is not a valid ``status`` reply of ``POST path``."""
    return _errors(name, response_pointer(name, path, status), body)


def schema_errors(name, schema_name, instance) -> list:
    """Reasons why ``instance`` does not match ``components/schemas/<schema_name>``."""
    return _errors(name, schema_pointer(name, schema_name), instance)


def validate_request(name, path, body, content_type=JSON):
    """Raise ``SpecValidationError`` unless ``body`` is a valid request of ``POST path``."""
    errors = request_errors(name, path, body, content_type)
    if errors:
        raise SpecValidationError(f"{name} POST {path} request", errors)


def validate_response(name, path, body, status=200):
    """Raise ``SpecValidationError`` unless ``body`` is a valid reply of ``POST path``."""
    errors = response_errors(name, path, body, status)
    if errors:
        raise SpecValidationError(f"{name} POST {path} {status} response", errors)


def validate_schema(name, schema_name, instance):
    """Raise ``SpecValidationError`` unless ``instance`` matches the named schema."""
    errors = schema_errors(name, schema_name, instance)
    if errors:
        raise SpecValidationError(f"{name} schema {schema_name}", errors)


# --- sample messages -----------------------------------------------------------------

_SAMPLE_NAME = re.compile(
    r"^(?P<flow>processflow[0-9a-z-]*?)(?P<kind>req|res)(?P<copy> copy)?\.json$"
)


@dataclass(frozen=True)
class SampleFile:
    """One sample message of ``spdci-standards/release/sample-jsons``."""

    registry: str
    path: Path
    process_flow_id: str
    process_flow_name: str | None
    kind: str  # "req" or "res"

    @property
    def name(self) -> str:
        """``<registry>/<file name>``, e.g. ``social/processflow2req.json``."""
        return f"{self.registry}/{self.path.name}"

    @cached_property
    def data(self):
        with open(self.path, encoding="utf-8") as handle:
            return json.load(handle)


def sample_files():
    """Yield every sample message (``usecaselist.json`` names the process flows)."""
    root = spec_dir() / SAMPLES_SUBDIR
    for registry in REGISTRIES:
        folder = root / registry
        flows = {}
        usecases = folder / "usecaselist.json"
        if usecases.is_file():
            with open(usecases, encoding="utf-8") as handle:
                flows = {
                    item["processflow_id"]: item["processflow_name"] for item in json.load(handle)
                }
        for path in sorted(folder.glob("*.json")):
            match = _SAMPLE_NAME.match(path.name)
            if not match:
                continue
            flow = match["flow"]
            yield SampleFile(registry, path, flow, flows.get(flow), match["kind"])
