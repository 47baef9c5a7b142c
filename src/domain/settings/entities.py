from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from enum import StrEnum

from domain.identity.entities import UserId
from domain.organizations.entities import OrgId
from domain.settings.errors import InvalidSettingError
from domain.settings.mcp import McpConfig
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
    "EffectiveSettings",
    "OrgSettings",
    "SettingField",
    "SettingSource",
    "SettingsValues",
    "UserSettings",
    "effective_settings",
)


class SettingField(StrEnum):
    """Every setting, by the name of its attribute in ``SettingsValues``."""

    LLM_MODEL = "llm_model"
    LLM_API_KEY = "llm_api_key"
    LLM_BASE_URL = "llm_base_url"
    AGENT = "agent"
    MAX_ITERATIONS = "max_iterations"
    CONFIRMATION_MODE = "confirmation_mode"
    LANGUAGE = "language"
    MAX_BUDGET_PER_TASK = "max_budget_per_task"
    ANALYTICS_CONSENT = "analytics_consent"
    GIT_AUTHOR_NAME = "git_author_name"
    GIT_AUTHOR_EMAIL = "git_author_email"
    MCP_CONFIG = "mcp_config"


class SettingSource(StrEnum):
    USER = "user"
    ORG = "org"
    DEFAULT = "default"


def _flag(name: SettingField) -> Callable[[object], bool]:
    def parse(raw: object) -> bool:
        if not isinstance(raw, bool):
            raise InvalidSettingError(f"{name.value} is true or false.", field=name.value)
        return raw

    return parse


def _text(kind: Callable[[str], object], name: SettingField) -> Callable[[object], object]:
    def parse(raw: object) -> object:
        if not isinstance(raw, str):
            raise InvalidSettingError(f"{name.value} is a string.", field=name.value)
        return kind(raw)

    return parse


def _mcp_config(raw: object) -> McpConfig:
    if not isinstance(raw, McpConfig):
        raise InvalidSettingError(
            f"{SettingField.MCP_CONFIG.value} is an MCP configuration.",
            field=SettingField.MCP_CONFIG.value,
        )
    return raw


def _max_iterations(raw: object) -> MaxIterations:
    return MaxIterations(raw)  # type: ignore[arg-type]  # the value object checks the type


def _budget(raw: object) -> Budget:
    return Budget(raw)  # type: ignore[arg-type]  # the value object checks the type


_PARSERS: Mapping[SettingField, Callable[[object], object]] = {
    SettingField.LLM_MODEL: _text(LlmModel, SettingField.LLM_MODEL),
    SettingField.LLM_API_KEY: _text(LlmApiKey, SettingField.LLM_API_KEY),
    SettingField.LLM_BASE_URL: _text(LlmBaseUrl, SettingField.LLM_BASE_URL),
    SettingField.AGENT: _text(AgentName, SettingField.AGENT),
    SettingField.MAX_ITERATIONS: _max_iterations,
    SettingField.CONFIRMATION_MODE: _flag(SettingField.CONFIRMATION_MODE),
    SettingField.LANGUAGE: _text(Language, SettingField.LANGUAGE),
    SettingField.MAX_BUDGET_PER_TASK: _budget,
    SettingField.ANALYTICS_CONSENT: _flag(SettingField.ANALYTICS_CONSENT),
    SettingField.GIT_AUTHOR_NAME: _text(GitAuthorName, SettingField.GIT_AUTHOR_NAME),
    SettingField.GIT_AUTHOR_EMAIL: _text(GitAuthorEmail, SettingField.GIT_AUTHOR_EMAIL),
    SettingField.MCP_CONFIG: _mcp_config,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class SettingsValues:
    """The settings one level holds (a user's own, an org's defaults); ``None``: not set here."""

    llm_model: LlmModel | None = None
    llm_api_key: LlmApiKey | None = None
    llm_base_url: LlmBaseUrl | None = None
    agent: AgentName | None = None
    max_iterations: MaxIterations | None = None
    confirmation_mode: bool | None = None
    language: Language | None = None
    max_budget_per_task: Budget | None = None
    analytics_consent: bool | None = None
    git_author_name: GitAuthorName | None = None
    git_author_email: GitAuthorEmail | None = None
    mcp_config: McpConfig | None = None

    def get(self, name: SettingField) -> object:
        return getattr(self, name.value)

    def changed(self, changes: Mapping[SettingField, object]) -> "SettingsValues":
        """These values with ``changes`` applied: a plain value (text, number, flag, or an
        ``McpConfig``) sets after validation, ``None`` clears. A masked MCP secret keeps the one
        stored here."""
        updates: dict[str, object] = {}
        for name, raw in changes.items():
            value = None if raw is None else _PARSERS[name](raw)
            if isinstance(value, McpConfig):
                value = value.keeping_masked_from(self.mcp_config)
            updates[name.value] = value
        return replace(self, **updates)  # type: ignore[arg-type]  # keys are field names

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{f.name}={'...' if f.name == 'llm_api_key' else getattr(self, f.name)!r}"
            for f in fields(self)
            if getattr(self, f.name) is not None
        )
        return f"SettingsValues({shown})"


DEFAULTS = SettingsValues(
    agent=AgentName("CodeActAgent"),
    max_iterations=MaxIterations(500),
    confirmation_mode=False,
    language=Language("en"),
    analytics_consent=False,
)
"""What applies where neither the user nor the organization chose."""


@dataclass(frozen=True, slots=True, kw_only=True)
class UserSettings:
    """A person's own settings; they apply in every organization and win over its defaults."""

    user_id: UserId
    values: SettingsValues = field(default_factory=SettingsValues)
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class OrgSettings:
    """An organization's defaults for its members."""

    org_id: OrgId
    values: SettingsValues = field(default_factory=SettingsValues)
    updated_at: datetime | None = None


_ENDPOINT = (SettingField.LLM_API_KEY, SettingField.LLM_BASE_URL)


@dataclass(frozen=True, slots=True, kw_only=True)
class EffectiveSettings:
    values: SettingsValues
    sources: Mapping[SettingField, SettingSource]


def effective_settings(
    user: SettingsValues, org: SettingsValues, defaults: SettingsValues = DEFAULTS
) -> EffectiveSettings:
    """The user's values over the org's over the defaults, field by field, except the LLM
    endpoint: its API key and base URL come as a pair from the first level that sets either,
    so an organization's key is never sent to a URL a member chose, nor a member's key to a
    URL the organization chose."""
    levels = (
        (SettingSource.USER, user),
        (SettingSource.ORG, org),
        (SettingSource.DEFAULT, defaults),
    )
    chosen: dict[str, object] = {}
    sources: dict[SettingField, SettingSource] = {}
    for name in SettingField:
        if name in _ENDPOINT:
            continue
        source, values = next(((s, v) for s, v in levels if v.get(name) is not None), levels[-1])
        chosen[name.value] = values.get(name)
        sources[name] = source
    endpoint_source, endpoint = next(
        ((s, v) for s, v in levels if any(v.get(n) is not None for n in _ENDPOINT)), levels[-1]
    )
    for name in _ENDPOINT:
        chosen[name.value] = endpoint.get(name)
        sources[name] = endpoint_source
    return EffectiveSettings(
        values=SettingsValues(**chosen),  # type: ignore[arg-type]  # keys are field names
        sources={name: sources[name] for name in SettingField},
    )
