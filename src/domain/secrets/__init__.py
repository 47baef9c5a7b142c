from domain.secrets.entities import (
    CustomSecret,
    SecretDescription,
    SecretId,
    SecretName,
    SecretValue,
)
from domain.secrets.errors import (
    InvalidSecretDescriptionError,
    InvalidSecretNameError,
    InvalidSecretValueError,
    SecretNameTakenError,
    SecretNotFoundError,
)

__all__ = (
    "CustomSecret",
    "InvalidSecretDescriptionError",
    "InvalidSecretNameError",
    "InvalidSecretValueError",
    "SecretDescription",
    "SecretId",
    "SecretName",
    "SecretNameTakenError",
    "SecretNotFoundError",
    "SecretValue",
)
