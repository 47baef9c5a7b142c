from application.settings.get_settings import GetSettings, SettingsView
from application.settings.llm_config import (
    LlmConfig,
    LlmConfigResolver,
)
from application.settings.org_settings import (
    GetOrgSettings,
    GetOrgSettingsRequest,
    UpdateOrgSettings,
    UpdateOrgSettingsRequest,
)
from application.settings.update_settings import UpdateSettings, UpdateSettingsRequest

__all__ = (
    "GetOrgSettings",
    "GetOrgSettingsRequest",
    "GetSettings",
    "LlmConfig",
    "LlmConfigResolver",
    "SettingsView",
    "UpdateOrgSettings",
    "UpdateOrgSettingsRequest",
    "UpdateSettings",
    "UpdateSettingsRequest",
)
