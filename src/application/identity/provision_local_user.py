from dataclasses import dataclass

from application.ports.audit_log import AuditLog
from application.ports.clock import Clock
from application.ports.org_repository import OrgRepository
from application.ports.unit_of_work import UnitOfWork
from application.ports.user_repository import UserRepository
from domain.audit.entities import AuditAction, AuditEvent
from domain.identity.entities import LOCAL_USER_SUBJECT, User, UserId
from domain.identity.value_objects import EmailAddress
from domain.organizations.entities import Organization
from domain.shared.ids import new_id

__all__ = ("ProvisionLocalUser", "ProvisionLocalUserRequest")


@dataclass(frozen=True, slots=True, kw_only=True)
class ProvisionLocalUserRequest:
    email: str
    display_name: str


class ProvisionLocalUser:
    """Make sure the single user of the embedded binding exists; idempotent.

    Called once at start-up. The first call creates the user with its personal organization
    and audits it; later calls return the stored user unchanged, so a profile the user edited
    is never overwritten, and add the personal organization if an older version made none.
    """

    def __init__(
        self,
        users: UserRepository,
        orgs: OrgRepository,
        audit: AuditLog,
        uow: UnitOfWork,
        clock: Clock,
    ) -> None:
        self._users = users
        self._orgs = orgs
        self._audit = audit
        self._uow = uow
        self._clock = clock

    async def execute(self, request: ProvisionLocalUserRequest) -> User:
        existing = await self._users.get_by_subject(LOCAL_USER_SUBJECT)
        if existing is not None:
            if await self._orgs.get_personal(existing.id_) is None:
                await self._add_personal_org(existing)
                await self._uow.commit()
            return existing
        now = self._clock.now()
        user = User(
            id_=UserId(new_id()),
            subject=LOCAL_USER_SUBJECT,
            email=EmailAddress(request.email),
            email_verified=True,
            display_name=request.display_name,
            avatar_url=None,
            created_at=now,
        )
        await self._users.add(user)
        await self._audit.append(
            AuditEvent(
                occurred_at=now,
                action=AuditAction.USER_PROVISIONED,
                actor_id=user.id_,
                org_id=None,
                target_type="user",
                target_id=str(user.id_),
                details={"subject": user.subject},
            )
        )
        await self._add_personal_org(user)
        await self._uow.commit()
        return user

    async def _add_personal_org(self, user: User) -> None:
        org, owner = Organization.personal_for(
            owner=user.id_, display_name=user.display_name, now=self._clock.now()
        )
        await self._orgs.add(org, owner)
