from dataclasses import dataclass

from application.ports.org_repository import MemberOrganization
from application.ports.settings_store import SettingsStore
from domain.identity.principals import Principal
from domain.organizations.entities import OrgId
from domain.settings.entities import EffectiveSettings, SettingsValues, effective_settings

__all__ = ("GetSettings", "SettingsView")


@dataclass(frozen=True, slots=True, kw_only=True)
class SettingsView:
    """What a person sees of their settings in one organization."""

    org_id: OrgId
    effective: EffectiveSettings
    """The org's defaults overridden by the person's own values, with where each came from."""
    own: SettingsValues
    """The person's own stored values."""


async def settings_view(
    store: SettingsStore, actor: Principal, org: MemberOrganization
) -> SettingsView:
    org_id = org.organization.id_
    mine = await store.get_user(actor.user.id_)
    defaults = await store.get_org(org_id)
    own = mine.values if mine is not None else SettingsValues()
    org_values = defaults.values if defaults is not None else SettingsValues()
    return SettingsView(org_id=org_id, effective=effective_settings(own, org_values), own=own)


class GetSettings:
    """The caller's settings in the active organization: its defaults overridden by the
    caller's own values, field by field (the LLM API key and base URL as a pair)."""

    def __init__(self, store: SettingsStore) -> None:
        self._store = store

    async def execute(self, actor: Principal, org: MemberOrganization) -> SettingsView:
        return await settings_view(self._store, actor, org)
