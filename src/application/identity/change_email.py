from dataclasses import dataclass, replace

from application.identity.access_gates import signed_in_person
from application.ports.access_revocations import AccessRevocations, UserChanged
from application.ports.identity_admin import IdentityAdmin
from application.ports.unit_of_work import UnitOfWork
from domain.identity.entities import User
from domain.identity.principals import Principal
from domain.identity.value_objects import EmailAddress

__all__ = ("ChangeEmail", "ChangeEmailRequest", "ChangeEmailResult")


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeEmailRequest:
    actor: Principal
    email: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeEmailResult:
    user: User


class ChangeEmail:
    """Change the caller's email at the identity broker, which sends a verification link.

    Until the new address is verified the caller is held at the email gate, like a new user.
    """

    def __init__(
        self, admin: IdentityAdmin, uow: UnitOfWork, revocations: AccessRevocations
    ) -> None:
        self._revocations = revocations
        self._admin = admin
        self._uow = uow

    async def execute(self, request: ChangeEmailRequest) -> ChangeEmailResult:
        user = signed_in_person(request.actor)
        email = EmailAddress(request.email)
        await self._admin.change_email(user.subject, email)
        changed = replace(user, email=email, email_verified=False)
        await self._uow.users.save(changed)
        await self._uow.commit()
        await self._revocations.publish([UserChanged(user.id_)])
        return ChangeEmailResult(user=changed)
