from domain.shared.errors import (
    ConflictError,
    DomainError,
    InvalidValueError,
    NotFoundError,
    PermissionDeniedError,
)
from domain.shared.ids import new_id

__all__ = (
    "ConflictError",
    "DomainError",
    "InvalidValueError",
    "NotFoundError",
    "PermissionDeniedError",
    "new_id",
)
