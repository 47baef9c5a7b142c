from dataclasses import dataclass, replace

from application.errors import CredentialNotAllowedError
from application.ports.identity_admin import IdentityAdmin
from application.ports.unit_of_work import UnitOfWork
from application.ports.user_repository import UserRepository
from domain.identity.entities import LOCAL_USER_SUBJECT, User
from domain.identity.errors import EmailAlreadyVerifiedError
from domain.identity.principals import AuthMethod, Principal
from domain.identity.value_objects import EmailAddress
from domain.shared.errors import PermissionDeniedError

__all__ = (
    "ChangeEmail",
    "ChangeEmailRequest",
    "ResendVerificationEmail",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeEmailRequest:
    actor: Principal
    email: str


def _signed_in_person(actor: Principal) -> User:
    if actor.method is AuthMethod.API_KEY:
        raise CredentialNotAllowedError
    if actor.user.subject == LOCAL_USER_SUBJECT:
        raise PermissionDeniedError("The local user has no account at an identity provider.")
    return actor.user


class ChangeEmail:
    """Change the caller's email at the identity broker, which sends a verification link.

    Until the new address is verified the caller is held at the email gate, like a new user.
    """

    def __init__(self, admin: IdentityAdmin, users: UserRepository, uow: UnitOfWork) -> None:
        self._admin = admin
        self._users = users
        self._uow = uow

    async def execute(self, request: ChangeEmailRequest) -> User:
        user = _signed_in_person(request.actor)
        email = EmailAddress(request.email)
        await self._admin.change_email(user.subject, email)
        changed = replace(user, email=email, email_verified=False)
        await self._users.save(changed)
        await self._uow.commit()
        return changed


class ResendVerificationEmail:
    """Send the verification link for the caller's email again."""

    def __init__(self, admin: IdentityAdmin) -> None:
        self._admin = admin

    async def execute(self, actor: Principal) -> None:
        user = _signed_in_person(actor)
        if user.email_verified:
            raise EmailAlreadyVerifiedError
        await self._admin.send_verification_email(user.subject)
