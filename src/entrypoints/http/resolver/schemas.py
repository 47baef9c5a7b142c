from datetime import datetime
from typing import Annotated

import msgspec

from application.resolver import EnabledRepository, ResolverSettingsView
from domain.resolver.entities import MAX_RUNS_PER_REPOSITORY, RepositoryHook

__all__ = (
    "ResolverRepositoryCreate",
    "ResolverRepositoryList",
    "ResolverRepositoryOut",
    "ResolverSettingsIn",
    "ResolverSettingsOut",
)


class ResolverRepositoryCreate(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True
):
    provider: Annotated[str, msgspec.Meta(examples=["gitlab"], max_length=32)]
    repository: Annotated[str, msgspec.Meta(examples=["acme/widgets"], max_length=255)]
    install: bool = True
    """Install the webhook through the provider's API; false: register it by hand with the
    secret in the answer."""
    group: bool = False
    """`repository` names a GitLab group: its webhook serves every project under it."""


class ResolverRepositoryOut(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    id: str
    provider: str
    web_url: str
    repository: str
    managed: bool
    group: bool
    installed: bool
    """Its webhook is installed at the provider (always false for one registered by hand)."""
    webhook_url: str
    enabled_by: str
    created_at: datetime
    secret: str | None = None
    """Only in the answer that enabled it by hand: the webhook's secret, shown once."""

    @classmethod
    def from_entity(
        cls, hook: RepositoryHook, webhook_url: str, secret: str | None = None
    ) -> "ResolverRepositoryOut":
        return cls(
            id=hook.id_,
            provider=hook.provider.value,
            web_url=hook.web_url,
            repository=hook.repository,
            managed=hook.managed,
            group=hook.group,
            installed=hook.hook_id is not None,
            webhook_url=webhook_url,
            enabled_by=str(hook.enabled_by),
            created_at=hook.created_at,
            secret=secret,
        )

    @classmethod
    def from_enabled(cls, enabled: EnabledRepository) -> "ResolverRepositoryOut":
        return cls.from_entity(enabled.hook, enabled.webhook_url, enabled.secret)


class ResolverRepositoryList(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    items: list[ResolverRepositoryOut]


class ResolverSettingsIn(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, rename="camel"
):
    label: Annotated[str, msgspec.Meta(min_length=1, max_length=100, examples=["openhands"])] | (
        None
    ) = None
    """The label that sets the agent working when added; null: the server's."""
    handle: Annotated[str, msgspec.Meta(min_length=1, max_length=101, examples=["@openhands"])] | (
        None
    ) = None
    """The handle whose mention in a comment sets it working; null: the server's."""
    max_runs_per_repository: (
        Annotated[int, msgspec.Meta(ge=1, le=MAX_RUNS_PER_REPOSITORY, examples=[2])] | None
    ) = None
    """How many resolver conversations run at once on one repository; null: no cap."""


class ResolverSettingsOut(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    label: str | None
    handle: str | None
    max_runs_per_repository: int | None
    effective_label: str
    effective_handle: str
    updated_at: datetime | None

    @classmethod
    def from_view(cls, view: ResolverSettingsView) -> "ResolverSettingsOut":
        return cls(
            label=view.settings.label,
            handle=view.settings.handle,
            max_runs_per_repository=view.settings.max_runs_per_repository,
            effective_label=view.policy.label,
            effective_handle=view.policy.handle,
            updated_at=view.settings.updated_at,
        )
