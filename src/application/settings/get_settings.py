from dataclasses import dataclass

from application.ports.org_repository import MemberOrganization
from application.ports.unit_of_work import UnitOfWork
from application.settings._shared import SettingsView, settings_view
from domain.identity.principals import Principal

__all__ = ("GetSettings", "GetSettingsRequest", "GetSettingsResult")


@dataclass(frozen=True, slots=True, kw_only=True)
class GetSettingsRequest:
    actor: Principal
    org: MemberOrganization
    """The caller's active organization."""


@dataclass(frozen=True, slots=True, kw_only=True)
class GetSettingsResult:
    settings: SettingsView


class GetSettings:
    """The caller's settings in the active organization: its defaults overridden by the
    caller's own values, field by field (the LLM API key and base URL as a pair)."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def execute(self, request: GetSettingsRequest) -> GetSettingsResult:
        view = await settings_view(self._uow.settings, request.actor, request.org)
        return GetSettingsResult(settings=view)
