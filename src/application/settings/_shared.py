from dataclasses import dataclass

from application.ports.org_repository import MemberOrganization, OrgRepository
from application.ports.settings_store import SettingsStore
from domain.identity.principals import Principal
from domain.organizations.entities import OrgId
from domain.organizations.errors import OrgNotFoundError
from domain.settings.entities import EffectiveSettings, SettingsValues, effective_settings

__all__ = ("SettingsView", "callers_view", "settings_view")


@dataclass(frozen=True, slots=True, kw_only=True)
class SettingsView:
    """What a person sees of their settings in one organization."""

    org_id: OrgId
    effective: EffectiveSettings
    """The org's defaults overridden by the person's own values, with where each came from."""
    own: SettingsValues
    """The person's own stored values."""


async def callers_view(orgs: OrgRepository, actor: Principal, org_id: OrgId) -> MemberOrganization:
    """The org as the caller sees it; another tenant's org is reported as not found, and so is
    any org but its own to an API key."""
    found = await orgs.get_for_member(org_id, actor.user.id_)
    if found is None or actor.bound_org_id not in (None, org_id):
        raise OrgNotFoundError
    return found


async def settings_view(
    store: SettingsStore, actor: Principal, org: MemberOrganization
) -> SettingsView:
    """The caller's settings in ``org`` as stored now; reads only."""
    org_id = org.organization.id_
    mine = await store.get_user(actor.user.id_)
    defaults = await store.get_org(org_id)
    own = mine.values if mine is not None else SettingsValues()
    org_values = defaults.values if defaults is not None else SettingsValues()
    return SettingsView(org_id=org_id, effective=effective_settings(own, org_values), own=own)
