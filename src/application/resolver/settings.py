"""What an organization's admins set for the resolver: the label and handle that trigger it on
their repositories, and how many of its conversations run at once on one repository."""

from dataclasses import dataclass

from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWork
from application.resolver.repositories import admin_view
from domain.audit.entities import AuditAction, AuditEvent
from domain.identity.principals import Principal
from domain.organizations.entities import OrgId
from domain.resolver.entities import ResolverSettings
from domain.resolver.triggers import ResolverPolicy

__all__ = (
    "GetResolverSettings",
    "ResolverSettingsView",
    "UpdateResolverSettings",
    "UpdateResolverSettingsRequest",
    "org_policy",
)


async def org_policy(uow: UnitOfWork, org_id: OrgId, server: ResolverPolicy) -> ResolverPolicy:
    """The triggers on ``org_id``'s repositories: its label and handle, else the server's."""
    kept = await uow.resolver_settings.get(org_id)
    return server if kept is None else kept.policy(server)


@dataclass(frozen=True, slots=True, kw_only=True)
class ResolverSettingsView:
    settings: ResolverSettings
    """What the organization set (None: the server's)."""
    policy: ResolverPolicy
    """The label and handle in effect."""


class GetResolverSettings:
    """An organization's resolver settings, and the label and handle in effect; owners and
    admins only."""

    def __init__(self, uow: UnitOfWork, server: ResolverPolicy) -> None:
        self._uow = uow
        self._server = server

    async def execute(self, actor: Principal, org_id: OrgId) -> ResolverSettingsView:
        await admin_view(self._uow, actor, org_id)
        kept = await self._uow.resolver_settings.get(org_id) or ResolverSettings(org_id=org_id)
        return ResolverSettingsView(settings=kept, policy=kept.policy(self._server))


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateResolverSettingsRequest:
    actor: Principal
    org_id: OrgId
    label: str | None
    handle: str | None
    max_runs_per_repository: int | None


class UpdateResolverSettings:
    """An organization's owner or admin sets its resolver settings, all at once (None: the
    server's label or handle; no cap): the label added to an issue or pull request, and the
    handle mentioned in a comment, that set the agent working on its repositories, and how
    many resolver conversations may run at once on one repository (a trigger over the cap
    waits its turn; one run per issue or pull request always). Audited."""

    def __init__(self, uow: UnitOfWork, clock: Clock, server: ResolverPolicy) -> None:
        self._uow = uow
        self._clock = clock
        self._server = server

    async def execute(self, request: UpdateResolverSettingsRequest) -> ResolverSettingsView:
        await admin_view(self._uow, request.actor, request.org_id)
        now = self._clock.now()
        handle = request.handle
        if handle is not None and not handle.startswith("@"):
            handle = f"@{handle}"
        settings = ResolverSettings(
            org_id=request.org_id,
            label=request.label.strip() if request.label else None,
            handle=handle,
            max_runs_per_repository=request.max_runs_per_repository,
            updated_at=now,
        )
        await self._uow.resolver_settings.put(settings)
        await self._uow.audit.append(
            AuditEvent(
                occurred_at=now,
                action=AuditAction.RESOLVER_SETTINGS_CHANGED,
                actor_id=request.actor.user.id_,
                org_id=request.org_id,
                target_type="resolver_settings",
                target_id=str(request.org_id),
                details={
                    "label": settings.label or "",
                    "handle": settings.handle or "",
                    "max_runs_per_repository": str(settings.max_runs_per_repository or ""),
                },
            )
        )
        await self._uow.commit()
        return ResolverSettingsView(settings=settings, policy=settings.policy(self._server))
