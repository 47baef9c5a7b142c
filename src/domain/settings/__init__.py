from domain.settings.entities import (
    DEFAULTS,
    EffectiveSettings,
    OrgSettings,
    SettingField,
    SettingSource,
    SettingsValues,
    UserSettings,
    effective_settings,
)
from domain.settings.errors import InvalidSettingError, SettingsChangedConcurrentlyError
from domain.settings.mcp import MASK, McpConfig, McpRemoteServer, McpStdioServer
from domain.settings.value_objects import (
    AgentName,
    Budget,
    GitAuthorEmail,
    GitAuthorName,
    Language,
    LlmApiKey,
    LlmBaseUrl,
    LlmModel,
    MaxIterations,
)

__all__ = (
    "DEFAULTS",
    "MASK",
    "AgentName",
    "Budget",
    "EffectiveSettings",
    "GitAuthorEmail",
    "GitAuthorName",
    "InvalidSettingError",
    "Language",
    "LlmApiKey",
    "LlmBaseUrl",
    "LlmModel",
    "MaxIterations",
    "McpConfig",
    "McpRemoteServer",
    "McpStdioServer",
    "OrgSettings",
    "SettingField",
    "SettingSource",
    "SettingsChangedConcurrentlyError",
    "SettingsValues",
    "UserSettings",
    "effective_settings",
)
