from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from msgspec import UNSET, UnsetType

from application.settings import SettingsView
from domain.settings.entities import OrgSettings, SettingField, SettingsValues
from entrypoints.http.settings.mcp import decode_mcp_config, encode_mcp_config
from entrypoints.http.wire_names import wire_name

__all__ = ("OrgSettingsOut", "SettingsOut", "SettingsUpdate", "SettingsValuesOut")

Source = Literal["user", "org", "default"]


class SettingsUpdate(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, rename="camel"
):
    """Absent fields are left as they are; ``null`` clears a value (back to the default)."""

    llm_model: Annotated[
        str | UnsetType | None,
        msgspec.Meta(description="As LiteLLM routes it.", examples=["anthropic/claude-sonnet-4"]),
    ] = UNSET
    llm_api_key: Annotated[
        str | UnsetType | None,
        msgspec.Meta(description="Write-only: responses say only `llmApiKeySet`."),
    ] = UNSET
    llm_base_url: Annotated[
        str | UnsetType | None, msgspec.Meta(description="An http(s) URL without credentials.")
    ] = UNSET
    agent: Annotated[str | UnsetType | None, msgspec.Meta(examples=["CodeActAgent"])] = UNSET
    max_iterations: Annotated[int | UnsetType | None, msgspec.Meta(description="1 to 10000.")] = (
        UNSET
    )
    confirmation_mode: bool | UnsetType | None = UNSET
    language: Annotated[
        str | UnsetType | None, msgspec.Meta(description="A BCP 47 tag.", examples=["pt-BR"])
    ] = UNSET
    max_budget_per_task: Annotated[
        float | UnsetType | None, msgspec.Meta(description="US dollars, 0 to 100000.")
    ] = UNSET
    analytics_consent: bool | UnsetType | None = UNSET
    git_author_name: str | UnsetType | None = UNSET
    git_author_email: str | UnsetType | None = UNSET
    mcp_config: Annotated[
        dict[str, Any] | UnsetType | None,
        msgspec.Meta(
            description=(
                "`{sse_servers: [...], stdio_servers: [...], shttp_servers: [...]}`; a secret "
                "sent back as `********` keeps the stored one."
            )
        ),
    ] = UNSET

    def changes(self) -> dict[SettingField, object]:
        """The settings sent, by attribute; the MCP configuration decoded from its JSON."""
        sent: dict[SettingField, object] = {
            SettingField(field.name): getattr(self, field.name)
            for field in msgspec.structs.fields(self)
            if getattr(self, field.name) is not UNSET
        }
        if sent.get(SettingField.MCP_CONFIG) is not None:
            sent[SettingField.MCP_CONFIG] = decode_mcp_config(sent[SettingField.MCP_CONFIG])
        return sent


class SettingsValuesOut(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    llm_model: str | None
    llm_api_key_set: bool
    llm_base_url: str | None
    agent: str | None
    max_iterations: int | None
    confirmation_mode: bool | None
    language: str | None
    max_budget_per_task: float | None
    analytics_consent: bool | None
    git_author_name: str | None
    git_author_email: str | None
    mcp_config: Annotated[
        dict[str, Any] | None, msgspec.Meta(description="API keys and env values masked.")
    ]

    @staticmethod
    def fields_of(values: SettingsValues) -> dict[str, Any]:
        def text(value: Any) -> str | None:
            return None if value is None else str(value.value)

        return {
            "llm_model": text(values.llm_model),
            "llm_api_key_set": values.llm_api_key is not None,
            "llm_base_url": text(values.llm_base_url),
            "agent": text(values.agent),
            "max_iterations": (
                None if values.max_iterations is None else values.max_iterations.value
            ),
            "confirmation_mode": values.confirmation_mode,
            "language": text(values.language),
            "max_budget_per_task": (
                None if values.max_budget_per_task is None else values.max_budget_per_task.value
            ),
            "analytics_consent": values.analytics_consent,
            "git_author_name": text(values.git_author_name),
            "git_author_email": text(values.git_author_email),
            "mcp_config": (
                None if values.mcp_config is None else encode_mcp_config(values.mcp_config)
            ),
        }

    @classmethod
    def from_values(cls, values: SettingsValues) -> "SettingsValuesOut":
        return cls(**cls.fields_of(values))


class SettingsOut(SettingsValuesOut, frozen=True, kw_only=True, rename="camel"):
    """The effective settings; ``sources`` says where each came from, ``own`` holds the
    caller's own stored values."""

    org_id: UUID
    sources: dict[str, Source]
    own: SettingsValuesOut

    @classmethod
    def from_view(cls, view: SettingsView) -> "SettingsOut":
        return cls(
            **cls.fields_of(view.effective.values),
            org_id=view.org_id,
            sources={
                wire_name(name.value): source.value
                for name, source in view.effective.sources.items()
            },
            own=SettingsValuesOut.from_values(view.own),
        )


class OrgSettingsOut(SettingsValuesOut, frozen=True, kw_only=True, rename="camel"):
    """An organization's defaults; unset fields fall back to the server's defaults."""

    org_id: UUID
    updated_at: datetime | None

    @classmethod
    def from_entity(cls, settings: OrgSettings) -> "OrgSettingsOut":
        return cls(
            **cls.fields_of(settings.values),
            org_id=settings.org_id,
            updated_at=settings.updated_at,
        )
