from dataclasses import dataclass

from application.errors import CredentialNotAllowedError
from application.ports.clock import Clock
from application.ports.org_repository import MemberOrganization
from application.ports.unit_of_work import UnitOfWork
from domain.audit.entities import AuditAction, AuditEvent
from domain.identity.principals import AuthMethod, Principal
from domain.organizations.entities import Organization
from domain.organizations.value_objects import OrgName, OrgSlug

__all__ = ("CreateOrganization", "CreateOrganizationRequest", "CreateOrganizationResult")


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateOrganizationRequest:
    actor: Principal
    name: str
    slug: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateOrganizationResult:
    org: MemberOrganization


class CreateOrganization:
    """Create an organization owned by the caller. Any signed-in caller may; an API key may not.

    The slug is derived from the name when none is given and must be unique across the server.
    The organization, the owner membership and the audit event are committed together.
    """

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(self, request: CreateOrganizationRequest) -> CreateOrganizationResult:
        if request.actor.method is AuthMethod.API_KEY:
            raise CredentialNotAllowedError
        name = OrgName(request.name)
        slug = OrgSlug(request.slug) if request.slug is not None else OrgSlug.from_name(name)
        now = self._clock.now()
        founder = request.actor.user.id_
        org, owner = Organization.found(name=name, slug=slug, founder=founder, now=now)
        await self._uow.orgs.add(org, owner)
        await self._uow.audit.append(
            AuditEvent(
                occurred_at=now,
                action=AuditAction.ORG_CREATED,
                actor_id=founder,
                org_id=org.id_,
                target_type="organization",
                target_id=str(org.id_),
                details={"name": name.value, "slug": slug.value},
            )
        )
        await self._uow.commit()
        return CreateOrganizationResult(org=MemberOrganization(organization=org, role=owner.role))
