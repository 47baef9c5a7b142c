"""The one table that turns domain and application errors into HTTP problem documents."""

import math
import re
from collections.abc import Mapping
from enum import Enum
from http import HTTPStatus
from typing import Any

import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.params import ParameterKwarg
from litestar.types import ExceptionHandlersMap

from application.errors import (
    ApplicationError,
    CredentialNotAllowedError,
    DependencyUnavailableError,
    EmailNotVerifiedError,
    MissingScopeError,
    NotAuthenticatedError,
    RateLimitedError,
    SignInRejectedError,
    TermsNotAcceptedError,
    TooManySignInsError,
)
from application.identity.session_authenticator import SESSION_COOKIE
from domain.billing.holds import PaymentRequiredError
from domain.billing.payments import BillingNotConfiguredError
from domain.conversations.errors import (
    ConversationLimitReachedError,
    LlmNotConfiguredError,
    RuntimeConversationNotFoundError,
)
from domain.git.errors import ProviderNotConnectedError, ProviderReconnectRequiredError
from domain.settings.errors import InvalidSettingError
from domain.shared.errors import (
    ConflictError,
    DomainError,
    InvalidValueError,
    NotFoundError,
    PermissionDeniedError,
)
from domain.webhooks.entities import WebhookSignatureError
from entrypoints.http.git import CONNECT_PATH
from entrypoints.http.problem import PROBLEM_MEDIA_TYPE, FieldProblem, InputSource, Problem
from entrypoints.http.rate_limits import decisions_of, rate_limit_headers, retry_after
from entrypoints.http.wire_names import wire_name

__all__ = ("ERROR_STATUS", "exception_handlers", "problem_response")

ERROR_STATUS: Mapping[type[Exception], int] = {
    WebhookSignatureError: 401,
    PaymentRequiredError: 402,
    BillingNotConfiguredError: 404,
    ProviderReconnectRequiredError: 409,
    RuntimeConversationNotFoundError: 409,
    InvalidValueError: 422,
    NotFoundError: 404,
    ConflictError: 409,
    PermissionDeniedError: 403,
    DomainError: 400,
    NotAuthenticatedError: 401,
    SignInRejectedError: 400,
    MissingScopeError: 403,
    EmailNotVerifiedError: 403,
    TermsNotAcceptedError: 403,
    CredentialNotAllowedError: 403,
    TooManySignInsError: 429,
    RateLimitedError: 429,
    DependencyUnavailableError: 503,
    ApplicationError: 500,
}
"""Walked along the exception's MRO: the most specific class listed decides."""

_log = structlog.get_logger("maestrist.http")

RETRY_AFTER_S = 5
"""What every 503 the table answers tells the client to wait before trying again."""


def status_for(error: Exception) -> int:
    for kind in type(error).__mro__:
        status = ERROR_STATUS.get(kind)
        if status is not None:
            return status
    return 500


def _slug(status: int) -> str:
    return HTTPStatus(status).phrase.lower().replace(" ", "-").replace("'", "")


def problem_response(
    request: Request[Any, Any, Any],
    *,
    status: int,
    code: str,
    detail: str,
    errors: list[FieldProblem] | None = None,
    headers: Mapping[str, str] | None = None,
    links: dict[str, str] | None = None,
    provider: str | None = None,
    limit: int | None = None,
) -> Response[Problem]:
    problem = Problem(
        type=f"urn:maestrist:problem:{code}",
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        code=code,
        instance=request.url.path,
        request_id=request.scope.get("state", {}).get("request_id"),
        errors=errors,
        links=links,
        provider=provider,
        limit=limit,
    )
    return Response(problem, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _handle_core_error(
    request: Request[Any, Any, Any], error: DomainError | ApplicationError
) -> Response[Problem]:
    status = status_for(error)
    if status >= 500:
        _log.error("request_failed", code=error.code, error=error.message, exc_info=error)
    field = getattr(error, "field", None)
    field = wire_name(field) if field else None
    message = _message(error)
    errors = (
        [FieldProblem(message=message, field=field, source=_source_of(request, field))]
        if field
        else None
    )
    headers = {"Retry-After": str(RETRY_AFTER_S)} if status == 503 else None
    if isinstance(error, TooManySignInsError):
        headers = {"Retry-After": str(max(1, math.ceil(error.retry_after.total_seconds())))}
    if isinstance(error, RateLimitedError):
        decisions = {**decisions_of(request), error.policy.name: (error.policy, error.decision)}
        headers = {"Retry-After": retry_after(error.decision), **rate_limit_headers(decisions)}
    response = problem_response(
        request,
        status=status,
        code=error.code,
        detail=message,
        errors=errors,
        headers=headers,
        links=_links(error),
        provider=_provider(error),
        limit=_limit(error),
    )
    if isinstance(error, NotAuthenticatedError) and SESSION_COOKIE in request.cookies:
        response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _limit(error: DomainError | ApplicationError) -> int | None:
    """The limit that was reached: running conversations, or the rate that refused."""
    if isinstance(error, ConversationLimitReachedError):
        return error.limit
    if isinstance(error, RateLimitedError):
        return error.decision.rate.amount
    return None


def _message(error: DomainError | ApplicationError) -> str:
    """The error's message, naming fields as the client does: the core names them by
    attribute."""
    if isinstance(error, InvalidSettingError) and error.path is not None and error.field:
        return f"{wire_name(error.field)}.{error.path}: {error.reason}"
    if isinstance(error, LlmNotConfiguredError):
        return error.describe(tuple(wire_name(name) for name in error.missing))
    return error.message


def _links(error: DomainError | ApplicationError) -> dict[str, str] | None:
    if isinstance(error, TermsNotAcceptedError):
        links = {"accept": "/api/user/terms", "version": error.terms_version}
        return {**links, "terms": error.terms_url} if error.terms_url else links
    if isinstance(error, EmailNotVerifiedError):
        return {"resend": "/api/user/email/verification"} if error.can_resend else None
    provider = _provider(error)
    if provider is not None:
        return {"connect": CONNECT_PATH.format(provider=provider)}
    return None


def _provider(error: DomainError | ApplicationError) -> str | None:
    """The git provider to connect (again), for the client to send its user to."""
    if isinstance(error, ProviderReconnectRequiredError | ProviderNotConnectedError):
        return error.provider.value
    return None


_BODY_FIELD = re.compile(r"^Object (?:contains unknown|missing required) field `([^`]+)`$")
"""msgspec's complaint about a whole body that is really about one of its fields."""

_SOURCES: Mapping[str, InputSource] = {
    "path": "path",
    "query": "query",
    "header": "header",
    "cookie": "cookie",
    "body": "body",
}


def _source_of(request: Request[Any, Any, Any], field: str) -> InputSource:
    """Where the refused ``field`` came from: a path parameter, a query parameter or a header
    the request carries under that name, else the body."""
    if field in request.path_params:
        return "path"
    if field in request.query_params:
        return "query"
    if field in request.headers:
        return "header"
    return "body"


def _litestar_source(source: object) -> InputSource | None:
    """Litestar names a parameter's location with its ``ParamType`` enum, a body with "body"."""
    name = source.value if isinstance(source, Enum) else source
    return _SOURCES.get(str(name)) if name is not None else None


def _wire_name(request: Request[Any, Any, Any], key: str) -> str:
    """The name the client sent a parameter under (``perPage``), not the handler's own."""
    declared = request.route_handler.parsed_fn_signature.parameters.get(key)
    kwarg = None if declared is None else declared.kwarg_definition
    if isinstance(kwarg, ParameterKwarg):
        return kwarg.header or kwarg.cookie or kwarg.query or kwarg.name or key
    return key


def _field_problems(request: Request[Any, Any, Any], extra: object) -> list[FieldProblem] | None:
    if not isinstance(extra, list):
        return None
    problems = []
    for item in extra:
        if isinstance(item, dict):
            key = item.get("key")
            source = _litestar_source(item.get("source"))
            message = str(item.get("message", "invalid"))
            named = _BODY_FIELD.match(message) if key == "data" and source == "body" else None
            field = named[1] if named else None if key is None else _wire_name(request, str(key))
            problems.append(FieldProblem(message=message, field=field, source=source))
    return problems or None


def _handle_http_exception(
    request: Request[Any, Any, Any], error: HTTPException
) -> Response[Problem]:
    status = error.status_code
    if isinstance(error, ValidationException):
        return problem_response(
            request,
            status=422,
            code="invalid-request",
            detail=error.detail,
            errors=_field_problems(request, error.extra),
        )
    if status >= 500:
        _log.error("request_failed", status=status, error=error.detail, exc_info=error)
    headers = dict(error.headers or {})
    if status == 503:
        headers.setdefault("Retry-After", str(RETRY_AFTER_S))
    return problem_response(
        request,
        status=status,
        code=_slug(status),
        detail=error.detail,
        headers=headers or None,
    )


def _handle_unexpected(request: Request[Any, Any, Any], error: Exception) -> Response[Problem]:
    _log.error("unhandled_error", exc_info=error)
    return problem_response(
        request,
        status=500,
        code="internal-error",
        detail="The server failed to handle this request; it has been logged.",
    )


def exception_handlers() -> ExceptionHandlersMap:
    return {
        DomainError: _handle_core_error,
        ApplicationError: _handle_core_error,
        HTTPException: _handle_http_exception,
        Exception: _handle_unexpected,
    }
