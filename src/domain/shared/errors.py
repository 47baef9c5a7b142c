from typing import ClassVar

__all__ = (
    "ConflictError",
    "DomainError",
    "InvalidValueError",
    "NotFoundError",
    "PermissionDeniedError",
)


class DomainError(Exception):
    """Base of every rule the domain enforces; carries a stable code and no transport detail."""

    code: ClassVar[str] = "domain-error"
    default_message: ClassVar[str] = "The request breaks a domain rule."

    def __init__(self, message: str | None = None, *, field: str | None = None) -> None:
        self.message = message or self.default_message
        self.field = field
        super().__init__(self.message)


class InvalidValueError(DomainError, ValueError):
    """A value object refused its input. Subclasses ValueError so decoders report it as invalid."""

    code = "invalid-value"
    default_message = "A value is not valid."


class NotFoundError(DomainError):
    code = "not-found"
    default_message = "The resource does not exist."


class ConflictError(DomainError):
    code = "conflict"
    default_message = "The resource conflicts with one that already exists."


class PermissionDeniedError(DomainError):
    code = "permission-denied"
    default_message = "You may not do this."
