from application.settings._shared import SettingsView
from application.settings.get_org_settings import (
    GetOrgSettings,
    GetOrgSettingsRequest,
    GetOrgSettingsResult,
)
from application.settings.get_settings import GetSettings, GetSettingsRequest, GetSettingsResult
from application.settings.llm_config import LlmConfig, LlmConfigResolver
from application.settings.update_org_settings import (
    UpdateOrgSettings,
    UpdateOrgSettingsRequest,
    UpdateOrgSettingsResult,
)
from application.settings.update_settings import (
    UpdateSettings,
    UpdateSettingsRequest,
    UpdateSettingsResult,
)

__all__ = (
    "GetOrgSettings",
    "GetOrgSettingsRequest",
    "GetOrgSettingsResult",
    "GetSettings",
    "GetSettingsRequest",
    "GetSettingsResult",
    "LlmConfig",
    "LlmConfigResolver",
    "SettingsView",
    "UpdateOrgSettings",
    "UpdateOrgSettingsRequest",
    "UpdateOrgSettingsResult",
    "UpdateSettings",
    "UpdateSettingsRequest",
    "UpdateSettingsResult",
)
