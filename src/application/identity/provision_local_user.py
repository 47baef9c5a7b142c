from dataclasses import dataclass

from application.identity._provisioning import add_personal_org, add_user
from application.ports.clock import Clock
from application.ports.unit_of_work import UnitsOfWork
from domain.identity.entities import LOCAL_USER_SUBJECT, User, UserId
from domain.identity.value_objects import EmailAddress
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
                    await add_personal_org(uow, existing, self._clock.now())
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
            await add_user(uow, user, now)
            await uow.commit()
            return ProvisionLocalUserResult(user=user)
