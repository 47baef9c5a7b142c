"""What the OpenAPI document adds to what Litestar reads off the handlers, so that it says what
the server does: the problem documents an operation may answer with, and request bodies that
refuse fields they do not know."""

from collections.abc import Mapping
from http import HTTPStatus

import msgspec
from litestar import Litestar
from litestar._openapi.schema_generation import SchemaCreator
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import Schema
from litestar.params import ParameterKwarg
from litestar.routes import HTTPRoute
from litestar.typing import FieldDefinition

from entrypoints.http.problem import PROBLEM_MEDIA_TYPE, Problem

__all__ = ("ClosedStructSchemaPlugin", "document_problems", "problem_spec")

_WHY: Mapping[int, str] = {
    400: "The request cannot be read (a body that is not JSON), or it breaks a rule of the domain.",
    401: "No credential, or one that is unknown, expired or revoked.",
    403: "The credential lacks the scope, the person the email or terms gate, or the role the "
    "action needs.",
    404: "What the request names does not exist, or is not the caller's to see.",
    409: "The request conflicts with the current state: a name taken, a state that does not "
    "allow it, a git provider to connect again.",
    413: "The body is larger than the server accepts (1 MiB).",
    422: "An input is invalid; `errors` names each one with its `source` (path, query, header, "
    "body) and `field`.",
    503: "A dependency (database, cache, agent runtime, identity provider) is unavailable; "
    "retry after the `Retry-After` seconds.",
}

_SAFE_METHODS = frozenset({"GET", "HEAD"})


def _takes_input(route: HTTPRoute, handler: HTTPRouteHandler) -> bool:
    parameters = handler.parsed_fn_signature.parameters
    return (
        bool(route.path_parameters)
        or "data" in parameters
        or any(isinstance(p.kwarg_definition, ParameterKwarg) for p in parameters.values())
    )


def _talks_to_git_provider(handler: HTTPRouteHandler) -> bool:
    return "provider" in handler.parsed_fn_signature.parameters


def problem_statuses(route: HTTPRoute, handler: HTTPRouteHandler) -> frozenset[int]:
    """The problem statuses an operation may answer with.

    Any input can be malformed (400) or invalid (422), a body too large (413). An operation
    behind a credential can meet a missing or refused credential (401, 403), name what does
    not exist, the organization in ``X-Org-Id`` included (404), send an ``X-Org-Id`` that is
    no id (422), and find the database down (503). Writes, and reads at a git provider, can
    conflict (409).
    """
    statuses: set[int] = set()
    if _takes_input(route, handler):
        statuses |= {400, 422, 503}
    if "data" in handler.parsed_fn_signature.parameters:
        statuses.add(413)
    if handler.resolve_security():
        statuses |= {400, 401, 403, 404, 422, 503}
        if not handler.http_methods <= _SAFE_METHODS or _talks_to_git_provider(handler):
            statuses.add(409)
    return frozenset(statuses)


def problem_spec(status: int, why: str | None = None) -> ResponseSpec:
    """The problem document an operation answers ``status`` with, and why (by default, what
    that status means on every route)."""
    return ResponseSpec(
        data_container=Problem,
        description=f"{HTTPStatus(status).phrase}. {why or _WHY[status]}",
        media_type=PROBLEM_MEDIA_TYPE,
        generate_examples=False,
    )


def document_problems(app: Litestar) -> None:
    """Add the problem responses each operation may give to those its handler declares.

    A status the handler documents itself (the readiness report's 503) stays as it is.
    Litestar's own 400 entry, a shape this server never sends, gives way to the problem.
    """
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if not handler.resolve_include_in_schema():
                continue
            declared = dict(handler.responses or {})
            problems = {s: problem_spec(s) for s in sorted(problem_statuses(route, handler))}
            handler.responses = {**problems, **declared}


class ClosedStructSchemaPlugin(StructSchemaPlugin):
    """A struct that refuses unknown fields (``forbid_unknown_fields=True``, as every request
    body here does) is documented with ``additionalProperties: false``."""

    def is_plugin_supported_field(self, field_definition: FieldDefinition) -> bool:
        if not super().is_plugin_supported_field(field_definition):
            return False
        config: msgspec.structs.StructConfig = field_definition.type_.__struct_config__
        return config.forbid_unknown_fields

    def to_openapi_schema(
        self,
        field_definition: FieldDefinition,
        schema_creator: SchemaCreator,
    ) -> Schema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        schema.additional_properties = False
        return schema
