from collections.abc import Mapping
from dataclasses import dataclass

from application.ports.audit_log import AuditLog
from application.ports.clock import Clock
from application.ports.org_repository import OrgRepository
from application.ports.settings_store import SettingsStore
from application.ports.unit_of_work import UnitOfWork
from application.settings._shared import callers_view
from domain.audit.entities import AuditAction, AuditEvent
from domain.identity.principals import Principal
from domain.organizations.entities import OrgId
from domain.settings.entities import OrgSettings, SettingField
from domain.settings.policy import check_can_change_org_settings

__all__ = (
    "GetOrgSettings",
    "GetOrgSettingsRequest",
    "UpdateOrgSettings",
    "UpdateOrgSettingsRequest",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class GetOrgSettingsRequest:
    actor: Principal
    org_id: OrgId


class GetOrgSettings:
    """An organization's default settings. Any member may read them; to anyone else the
    organization does not exist."""

    def __init__(self, orgs: OrgRepository, store: SettingsStore) -> None:
        self._orgs = orgs
        self._store = store

    async def execute(self, request: GetOrgSettingsRequest) -> OrgSettings:
        await callers_view(self._orgs, request.actor, request.org_id)
        return await self._store.get_org(request.org_id) or OrgSettings(org_id=request.org_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateOrgSettingsRequest:
    actor: Principal
    org_id: OrgId
    changes: Mapping[SettingField, object]
    """As for ``UpdateSettingsRequest``: a value sets, ``None`` clears, absent is kept."""


class UpdateOrgSettings:
    """Change some of an organization's default settings. Owners and admins only; members
    see ``not-an-org-admin``, anyone else that the organization does not exist."""

    def __init__(
        self,
        orgs: OrgRepository,
        store: SettingsStore,
        audit: AuditLog,
        uow: UnitOfWork,
        clock: Clock,
    ) -> None:
        self._orgs = orgs
        self._store = store
        self._audit = audit
        self._uow = uow
        self._clock = clock

    async def execute(self, request: UpdateOrgSettingsRequest) -> OrgSettings:
        view = await callers_view(self._orgs, request.actor, request.org_id)
        check_can_change_org_settings(view.role)
        stored = await self._store.get_org(request.org_id) or OrgSettings(org_id=request.org_id)
        if not request.changes:
            return stored
        updated = OrgSettings(
            org_id=request.org_id,
            values=stored.values.changed(request.changes),
            updated_at=self._clock.now(),
        )
        await self._store.put_org(updated)
        await self._audit.append(
            AuditEvent(
                occurred_at=updated.updated_at or self._clock.now(),
                action=AuditAction.ORG_SETTINGS_CHANGED,
                actor_id=request.actor.user.id_,
                org_id=request.org_id,
                target_type="org_settings",
                target_id=str(request.org_id),
                # Which fields, never their values: some are secrets.
                details={"fields": ",".join(sorted(field.value for field in request.changes))},
            )
        )
        await self._uow.commit()
        return updated
