import msgspec

__all__ = ("PROBLEM_MEDIA_TYPE", "FieldProblem", "Problem")

PROBLEM_MEDIA_TYPE = "application/problem+json"


class FieldProblem(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One input that was refused: where it is and why."""

    message: str
    field: str | None = None
    source: str | None = None


class Problem(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, rename="camel"):
    """An RFC 9457 problem document; ``code`` is stable for clients to branch on."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    instance: str | None = None
    request_id: str | None = None
    errors: list[FieldProblem] | None = None
    links: dict[str, str] | None = None
    """Where to go to resolve the problem (``accept``, ``terms``...)."""
    limit: int | None = None
    """The limit that was reached (running conversations, say)."""
    provider: str | None = None
    """The git provider the problem is about (``github``, ``gitlab``, ``bitbucket``): the one
    to connect, or to connect again."""
