from domain.secrets.entities import SecretName
from domain.secrets.errors import SecretNotFoundError

__all__ = ("existing_name",)


def existing_name(raw: str) -> SecretName:
    """A name in a path: one that could never be stored cannot be found either."""
    try:
        return SecretName(raw)
    except ValueError:
        raise SecretNotFoundError from None
