from collections.abc import Mapping
from dataclasses import dataclass

from application.ports.clock import Clock
from application.ports.org_repository import MemberOrganization
from application.ports.settings_store import SettingsStore
from application.ports.unit_of_work import UnitOfWork
from application.settings.get_settings import SettingsView, settings_view
from domain.identity.principals import Principal
from domain.settings.entities import SettingField, UserSettings

__all__ = ("UpdateSettings", "UpdateSettingsRequest")


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateSettingsRequest:
    actor: Principal
    org: MemberOrganization
    changes: Mapping[SettingField, object]
    """The fields to change: a value sets, ``None`` clears the caller's own value; a field not
    named is left as it is."""


class UpdateSettings:
    """Change some of the caller's own settings; every value is checked before anything is
    stored. Answers the settings as ``GetSettings`` would after the change."""

    def __init__(self, store: SettingsStore, uow: UnitOfWork, clock: Clock) -> None:
        self._store = store
        self._uow = uow
        self._clock = clock

    async def execute(self, request: UpdateSettingsRequest) -> SettingsView:
        user_id = request.actor.user.id_
        stored = await self._store.get_user(user_id) or UserSettings(user_id=user_id)
        values = stored.values.changed(request.changes)
        if request.changes:
            await self._store.put_user(
                UserSettings(user_id=user_id, values=values, updated_at=self._clock.now())
            )
            await self._uow.commit()
        return await settings_view(self._store, request.actor, request.org)
