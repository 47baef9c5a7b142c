from typing import Annotated, Literal

import msgspec

__all__ = ("PROBLEM_MEDIA_TYPE", "FieldProblem", "InputSource", "Problem")

PROBLEM_MEDIA_TYPE = "application/problem+json"

InputSource = Literal["path", "query", "header", "cookie", "body"]


class FieldProblem(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One input that was refused: where it is and why."""

    message: str
    field: Annotated[
        str | None,
        msgspec.Meta(description="The parameter, header or body field (camelCase) refused."),
    ] = None
    source: Annotated[
        InputSource | None, msgspec.Meta(description="Where in the request the field is.")
    ] = None


class Problem(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, rename="camel"):
    """An RFC 9457 problem document; ``code`` is stable for clients to branch on."""

    type: str
    title: str
    status: int
    detail: str
    code: Annotated[str, msgspec.Meta(description="Stable, for clients to branch on.")]
    instance: Annotated[str | None, msgspec.Meta(description="The path requested.")] = None
    request_id: Annotated[
        str | None, msgspec.Meta(description="As in the X-Request-Id header and the logs.")
    ] = None
    errors: Annotated[
        list[FieldProblem] | None, msgspec.Meta(description="Each input refused, for a 422.")
    ] = None
    links: dict[str, str] | None = None
    """Where to go to resolve the problem (``accept``, ``terms``...)."""
    limit: int | None = None
    """The limit that was reached (running conversations, say)."""
    provider: str | None = None
    """The git provider the problem is about (``github``, ``gitlab``, ``bitbucket``): the one
    to connect, or to connect again."""
