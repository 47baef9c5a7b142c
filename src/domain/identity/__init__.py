from domain.identity.entities import LOCAL_USER_SUBJECT, User, UserId
from domain.identity.errors import UserNotFoundError
from domain.identity.value_objects import EmailAddress

__all__ = ("LOCAL_USER_SUBJECT", "EmailAddress", "User", "UserId", "UserNotFoundError")
