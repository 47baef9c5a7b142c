from collections.abc import Mapping
from dataclasses import dataclass

from application.analytics import ProductAnalytics
from application.ports.clock import Clock
from application.ports.org_repository import MemberOrganization
from application.ports.unit_of_work import UnitOfWork
from application.settings._shared import SettingsView, settings_view
from domain.identity.principals import Principal
from domain.settings.entities import SettingField, UserSettings

__all__ = ("UpdateSettings", "UpdateSettingsRequest", "UpdateSettingsResult")


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateSettingsRequest:
    actor: Principal
    org: MemberOrganization
    changes: Mapping[SettingField, object]
    """The fields to change: a value sets, ``None`` clears the caller's own value; a field not
    named is left as it is."""


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateSettingsResult:
    settings: SettingsView
    """As ``GetSettings`` answers after the change."""


class UpdateSettings:
    """Change some of the caller's own settings; every value is checked before anything is
    stored. Answers the settings as ``GetSettings`` would after the change. The first time the
    caller turns their analytics consent on, their sign-up is reported."""

    def __init__(self, uow: UnitOfWork, clock: Clock, analytics: ProductAnalytics) -> None:
        self._uow = uow
        self._clock = clock
        self._analytics = analytics

    async def execute(self, request: UpdateSettingsRequest) -> UpdateSettingsResult:
        user_id = request.actor.user.id_
        store = self._uow.settings
        stored = await store.get_user(user_id) or UserSettings(user_id=user_id)
        values = stored.values.changed(request.changes)
        if request.changes:
            await store.put_user(
                UserSettings(user_id=user_id, values=values, updated_at=self._clock.now())
            )
            await self._uow.commit()
        if stored.values.analytics_consent is None and values.analytics_consent is True:
            await self._analytics.consent_given(self._uow, request.actor.user)
        return UpdateSettingsResult(settings=await settings_view(store, request.actor, request.org))
