from dataclasses import dataclass

from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWork, UnitsOfWork
from domain.audit.entities import AuditAction, AuditEvent
from domain.identity.entities import LOCAL_USER_SUBJECT, User, UserId
from domain.identity.value_objects import EmailAddress
from domain.organizations.entities import Organization
from domain.shared.ids import new_id

__all__ = ("ProvisionLocalUser", "ProvisionLocalUserRequest", "ProvisionLocalUserResult")


@dataclass(frozen=True, slots=True, kw_only=True)
class ProvisionLocalUserRequest:
    email: str
    display_name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ProvisionLocalUserResult:
    user: User


class ProvisionLocalUser:
    """Make sure the single user of the embedded binding exists; idempotent.

    Called at start-up, outside any request, so it opens its own unit of work. The first call
    creates the user with its personal organization and audits it, all in one commit; later
    calls return the stored user unchanged, so a profile the user edited is never overwritten,
    and add the personal organization if an older version made none.
    """

    def __init__(self, units: UnitsOfWork, clock: Clock) -> None:
        self._units = units
        self._clock = clock

    async def execute(self, request: ProvisionLocalUserRequest) -> ProvisionLocalUserResult:
        async with self._units.begin() as uow:
            existing = await uow.users.get_by_subject(LOCAL_USER_SUBJECT)
            if existing is not None:
                if await uow.orgs.get_personal(existing.id_) is None:
                    await self._add_personal_org(uow, existing)
                    await uow.commit()
                return ProvisionLocalUserResult(user=existing)
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
            await uow.users.add(user)
            await uow.audit.append(
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
            await self._add_personal_org(uow, user)
            await uow.commit()
            return ProvisionLocalUserResult(user=user)

    async def _add_personal_org(self, uow: UnitOfWork, user: User) -> None:
        org, owner = Organization.personal_for(
            owner=user.id_, display_name=user.display_name, now=self._clock.now()
        )
        await uow.orgs.add(org, owner)
