from domain.shared.errors import ConflictError, InvalidValueError, NotFoundError

__all__ = (
    "InvalidSecretDescriptionError",
    "InvalidSecretNameError",
    "InvalidSecretValueError",
    "SecretNameTakenError",
    "SecretNotFoundError",
)


class InvalidSecretNameError(InvalidValueError):
    code = "invalid-secret-name"
    default_message = "A secret's name must be a valid environment variable name."


class InvalidSecretValueError(InvalidValueError):
    code = "invalid-secret-value"
    default_message = "The secret's value is not valid."


class InvalidSecretDescriptionError(InvalidValueError):
    code = "invalid-secret-description"
    default_message = "The secret's description is not valid."


class SecretNameTakenError(ConflictError):
    code = "secret-name-taken"
    default_message = "You already have a secret with this name."


class SecretNotFoundError(NotFoundError):
    code = "secret-not-found"
    default_message = "You have no secret with this name."
