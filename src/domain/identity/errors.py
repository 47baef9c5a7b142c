from domain.shared.errors import ConflictError, InvalidValueError, NotFoundError

__all__ = (
    "ApiKeyNotFoundError",
    "EmailAlreadyVerifiedError",
    "EmailTakenError",
    "InvalidApiKeyExpiryError",
    "InvalidApiKeyNameError",
    "InvalidEmailError",
    "SessionNotFoundError",
    "TermsVersionMismatchError",
    "UserNotFoundError",
    "UserSubjectTakenError",
)


class UserNotFoundError(NotFoundError):
    code = "user-not-found"
    default_message = "The user does not exist."


class InvalidEmailError(InvalidValueError):
    code = "invalid-email"
    default_message = "The email address is not valid."


class UserSubjectTakenError(ConflictError):
    code = "user-subject-taken"
    default_message = "A user with this identity-provider subject already exists."


class InvalidApiKeyNameError(InvalidValueError):
    code = "invalid-api-key-name"
    default_message = "The API key name is not valid."


class InvalidApiKeyExpiryError(InvalidValueError):
    code = "invalid-api-key-expiry"
    default_message = "An API key must expire in the future, within a year."


class ApiKeyNotFoundError(NotFoundError):
    code = "api-key-not-found"
    default_message = "The API key does not exist."


class SessionNotFoundError(NotFoundError):
    code = "session-not-found"
    default_message = "The session does not exist or has ended."


class TermsVersionMismatchError(InvalidValueError):
    code = "terms-version-mismatch"
    default_message = "That is not the version of the terms in force."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message, field="version")


class EmailAlreadyVerifiedError(ConflictError):
    code = "email-already-verified"
    default_message = "The email address is already verified."


class EmailTakenError(ConflictError):
    code = "email-taken"
    default_message = "Another account already uses this email address."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message, field="email")
