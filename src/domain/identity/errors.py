from domain.shared.errors import ConflictError, InvalidValueError, NotFoundError

__all__ = ("InvalidEmailError", "UserNotFoundError", "UserSubjectTakenError")


class UserNotFoundError(NotFoundError):
    code = "user-not-found"
    default_message = "The user does not exist."


class InvalidEmailError(InvalidValueError):
    code = "invalid-email"
    default_message = "The email address is not valid."


class UserSubjectTakenError(ConflictError):
    code = "user-subject-taken"
    default_message = "A user with this identity-provider subject already exists."
