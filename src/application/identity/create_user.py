from dataclasses import dataclass

from application.identity._provisioning import add_user
from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWork
from domain.identity.entities import User, UserId
from domain.identity.errors import EmailTakenError, UserSubjectTakenError
from domain.identity.value_objects import EmailAddress, display_name, fits_subject
from domain.shared.errors import InvalidValueError
from domain.shared.ids import new_id

__all__ = ("OPERATOR_SUBJECT_PREFIX", "CreateUser", "CreateUserRequest")

OPERATOR_SUBJECT_PREFIX = "operator:"
"""The subject of a user an operator made without naming one: no identity provider gives
it, so such a user acts through API keys only."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateUserRequest:
    email: str
    display_name: str | None = None
    subject: str | None = None
    """The subject the identity provider will give this person, so that signing in finds this
    user; None for a user who acts through API keys only."""


class CreateUser:
    """An operator makes a user, with the personal organization every user has (the first user
    of a clustered server with no identity provider, or someone to give an API key before
    they ever sign in). The address counts as verified: the operator vouches for it."""

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(self, request: CreateUserRequest) -> User:
        email = EmailAddress(request.email)
        subject = request.subject or f"{OPERATOR_SUBJECT_PREFIX}{new_id()}"
        if not fits_subject(subject):
            raise InvalidValueError("The subject is too long or empty.", field="subject")
        if await self._uow.users.get_by_subject(subject) is not None:
            raise UserSubjectTakenError
        if await self._uow.users.find_by_email(email) is not None:
            raise EmailTakenError
        now = self._clock.now()
        user = User(
            id_=UserId(new_id()),
            subject=subject,
            email=email,
            email_verified=True,
            display_name=display_name(request.display_name or email.value.split("@")[0]),
            avatar_url=None,
            created_at=now,
        )
        await add_user(self._uow, user, now, created_by="operator")
        await self._uow.commit()
        return user
