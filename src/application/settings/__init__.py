from application.settings.get_settings import GetSettings, SettingsView
from application.settings.org_settings import (
    GetOrgSettings,
    GetOrgSettingsRequest,
    UpdateOrgSettings,
    UpdateOrgSettingsRequest,
)
from application.settings.resolve_llm_config import (
    LlmConfig,
    ResolveLlmConfig,
    ResolveLlmConfigRequest,
)
from application.settings.update_settings import UpdateSettings, UpdateSettingsRequest

__all__ = (
    "GetOrgSettings",
    "GetOrgSettingsRequest",
    "GetSettings",
    "LlmConfig",
    "ResolveLlmConfig",
    "ResolveLlmConfigRequest",
    "SettingsView",
    "UpdateOrgSettings",
    "UpdateOrgSettingsRequest",
    "UpdateSettings",
    "UpdateSettingsRequest",
)
