from collections.abc import Mapping
from dataclasses import dataclass

from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWork
from application.settings._shared import callers_view
from domain.audit.entities import AuditAction, AuditEvent
from domain.identity.principals import Principal
from domain.organizations.entities import OrgId
from domain.settings.entities import OrgSettings, SettingField
from domain.settings.policy import check_can_change_org_settings

__all__ = ("UpdateOrgSettings", "UpdateOrgSettingsRequest", "UpdateOrgSettingsResult")


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateOrgSettingsRequest:
    actor: Principal
    org_id: OrgId
    changes: Mapping[SettingField, object]
    """As for ``UpdateSettingsRequest``: a value sets, ``None`` clears, absent is kept."""


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateOrgSettingsResult:
    settings: OrgSettings


class UpdateOrgSettings:
    """Change some of an organization's default settings. Owners and admins only; members
    see ``not-an-org-admin``, anyone else that the organization does not exist. The change
    and its audit event are stored together."""

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(self, request: UpdateOrgSettingsRequest) -> UpdateOrgSettingsResult:
        view = await callers_view(self._uow.orgs, request.actor, request.org_id)
        check_can_change_org_settings(view.role)
        store = self._uow.settings
        stored = await store.get_org(request.org_id) or OrgSettings(org_id=request.org_id)
        if not request.changes:
            return UpdateOrgSettingsResult(settings=stored)
        now = self._clock.now()
        updated = OrgSettings(
            org_id=request.org_id, values=stored.values.changed(request.changes), updated_at=now
        )
        await store.put_org(updated)
        await self._uow.audit.append(
            AuditEvent(
                occurred_at=now,
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
        return UpdateOrgSettingsResult(settings=updated)
