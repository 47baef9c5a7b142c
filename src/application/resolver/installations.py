"""Keeping the app's installations in step with the provider, and linking one to the
organization it works for."""

from dataclasses import dataclass, replace

from application.ports.clock import Clock
from application.ports.git_provider import GitProviders
from application.ports.org_repository import MemberOrganization
from application.ports.unit_of_work import UnitOfWork
from application.resolver.github_events import InstallationChange
from domain.git.errors import ProviderNotConnectedError
from domain.git.providers import ProviderKind
from domain.identity.principals import Principal
from domain.organizations.entities import Role
from domain.resolver.entities import AppInstallation, InstallationNotFoundError
from domain.shared.errors import InvalidValueError, PermissionDeniedError

__all__ = (
    "LinkAppInstallation",
    "LinkAppInstallationRequest",
    "ListAppInstallations",
    "keep_installation_change",
)


async def keep_installation_change(uow: UnitOfWork, change: InstallationChange) -> str:
    """Apply what an installation event says (in ``uow``; its caller commits); the outcome."""
    seen = change.installation
    kept = await uow.app_installations.get(seen.provider, seen.installation_id)
    if change.action == "deleted":
        await uow.app_installations.delete(seen.provider, seen.installation_id)
        return "installation removed"
    if change.action in {"added", "removed"}:
        base = kept or seen
        updated = replace(
            base.with_repositories(change.added, change.removed, seen.updated_at),
            all_repositories=seen.all_repositories,
        )
        await uow.app_installations.put(updated)
        return f"installation repositories {change.action}"
    if change.action in {"created", "suspend", "unsuspend", "new_permissions_accepted"}:
        org_id = None if kept is None else kept.org_id
        repositories = seen.repositories
        if change.action != "created" and kept is not None:
            repositories = kept.repositories
        suspended = change.action == "suspend" or (change.action != "unsuspend" and seen.suspended)
        await uow.app_installations.put(
            replace(seen, org_id=org_id, repositories=repositories, suspended=suspended)
        )
        return f"installation {change.action}"
    return f"ignored: installation {change.action or 'event'}"


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkAppInstallationRequest:
    actor: Principal
    org: MemberOrganization
    provider: str
    installation_id: str


class LinkAppInstallation:
    """An organization admin makes an installation of the app work for their organization:
    the installation must be one their own provider account can reach (asked of the provider
    with their token), so nobody links an installation they do not administer. Triggers on
    its repositories then start conversations in this organization. An installation works for
    one organization; linking it again to the same one changes nothing."""

    def __init__(self, uow: UnitOfWork, providers: GitProviders, clock: Clock) -> None:
        self._uow = uow
        self._providers = providers
        self._clock = clock

    async def execute(self, request: LinkAppInstallationRequest) -> AppInstallation:
        if request.org.role not in {Role.OWNER, Role.ADMIN}:
            raise PermissionDeniedError("Only an organization's admins link app installations.")
        provider = ProviderKind.parse(request.provider)
        if not request.installation_id.isdigit() or len(request.installation_id) > 20:
            raise InvalidValueError("An installation id is a number.", field="installation_id")
        user_id = request.actor.user.id_
        token = await self._uow.provider_tokens.get(user_id, provider)
        if token is None:
            raise ProviderNotConnectedError(provider)
        reach = self._providers.installations(token.host, token.access_token)
        if reach is None:
            raise InvalidValueError(f"{provider.value} has no app installations.", field="provider")
        seen = {found.id_: found for found in await reach.list_installations()}
        found = seen.get(request.installation_id)
        if found is None:
            raise InstallationNotFoundError
        now = self._clock.now()
        kept = await self._uow.app_installations.get(provider, request.installation_id)
        base = kept or AppInstallation(
            provider=provider,
            installation_id=found.id_,
            account_login=found.account_login,
            account_type=found.account_type,
            updated_at=now,
        )
        linked = base.linked_to(request.org.organization.id_, now)
        await self._uow.app_installations.put(linked)
        await self._uow.commit()
        return linked


class ListAppInstallations:
    """The installations linked to the caller's organization."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def execute(self, org: MemberOrganization) -> list[AppInstallation]:
        return await self._uow.app_installations.list_for_org(org.organization.id_)
