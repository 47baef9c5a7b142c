from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from application.api_keys.create_api_key import (
    CreateApiKey,
    CreateApiKeyRequest,
    CreateApiKeyResult,
)
from application.ports.org_repository import MemberOrganization
from application.ports.unit_of_work import UnitOfWork
from domain.identity.entities import User, UserId
from domain.identity.errors import UserNotFoundError
from domain.identity.principals import AuthMethod, Principal
from domain.identity.scopes import Scope
from domain.identity.value_objects import EmailAddress
from domain.organizations.errors import OrgNotFoundError

__all__ = ("IssueApiKey", "IssueApiKeyRequest")


@dataclass(frozen=True, slots=True, kw_only=True)
class IssueApiKeyRequest:
    user: str
    """The user's email address or id."""
    org: str | None
    """The organization's slug or id, one the user belongs to; None for their personal one."""
    name: str
    scopes: frozenset[Scope]
    expires_at: datetime | None = None


class IssueApiKey:
    """An operator makes an API key for a user in one of their organizations, as the user
    would make it themselves (the same rules: ``org:admin`` only for an owner or admin), for
    a server whose first key cannot come from a signed-in person."""

    def __init__(self, uow: UnitOfWork, create: CreateApiKey) -> None:
        self._uow = uow
        self._create = create

    async def _user(self, who: str) -> User:
        try:
            user = await self._uow.users.get(UserId(UUID(who)))
        except ValueError:
            user = await self._uow.users.find_by_email(EmailAddress(who))
        if user is None:
            raise UserNotFoundError(f"No user is {who}.")
        return user

    async def _org(self, user: User, which: str | None) -> MemberOrganization:
        orgs = await self._uow.orgs.list_for_member(user.id_)
        for org in orgs:
            if which is None and org.organization.personal_owner == user.id_:
                return org
            if which in {org.organization.slug.value, str(org.organization.id_)}:
                return org
        raise OrgNotFoundError(
            f"{user.email.value} belongs to no organization {which}."
            if which
            else f"{user.email.value} has no personal organization."
        )

    async def execute(self, request: IssueApiKeyRequest) -> CreateApiKeyResult:
        user = await self._user(request.user)
        org = await self._org(user, request.org)
        return await self._create.execute(
            CreateApiKeyRequest(
                actor=Principal(user=user, method=AuthMethod.LOCAL),
                org=org,
                name=request.name,
                scopes=request.scopes,
                expires_at=request.expires_at,
            )
        )
