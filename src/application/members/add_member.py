from dataclasses import dataclass

from application.members._shared import callers_view, member_event
from application.ports.clock import Clock
from application.ports.org_repository import OrgMember
from application.ports.unit_of_work import UnitOfWork
from domain.audit.entities import AuditAction
from domain.identity.errors import UserNotFoundError
from domain.identity.principals import Principal
from domain.identity.value_objects import EmailAddress
from domain.organizations.entities import Membership, OrgId, Role
from domain.organizations.errors import MemberAlreadyExistsError
from domain.organizations.policy import check_can_add

__all__ = ("AddMember", "AddMemberRequest", "AddMemberResult")


@dataclass(frozen=True, slots=True, kw_only=True)
class AddMemberRequest:
    actor: Principal
    org_id: OrgId
    email: str
    role: Role = Role.MEMBER


@dataclass(frozen=True, slots=True, kw_only=True)
class AddMemberResult:
    member: OrgMember


class AddMember:
    """Add someone who has signed in before, by email, with a role.

    Owners and admins may add members; only the owner may add admins. Personal organizations
    take no members. The person must already be known to the server. The membership and its
    audit are committed together.
    """

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(self, request: AddMemberRequest) -> AddMemberResult:
        view = await callers_view(self._uow.orgs, request.actor, request.org_id)
        check_can_add(view.organization, view.role, request.role)
        email = EmailAddress(request.email)
        user = await self._uow.users.find_by_email(email)
        if user is None:
            raise UserNotFoundError(
                "Nobody with this email address has signed in yet; invite them instead."
            )
        if await self._uow.orgs.get_for_member(request.org_id, user.id_) is not None:
            raise MemberAlreadyExistsError
        now = self._clock.now()
        await self._uow.orgs.add_member(
            Membership(org_id=request.org_id, user_id=user.id_, role=request.role, joined_at=now)
        )
        await self._uow.audit.append(
            member_event(
                request.actor,
                request.org_id,
                AuditAction.MEMBER_ADDED,
                user.id_,
                {"email": user.email.value, "role": request.role.value},
                now=self._clock.now(),
            )
        )
        await self._uow.commit()
        return AddMemberResult(member=OrgMember(user=user, role=request.role, joined_at=now))
