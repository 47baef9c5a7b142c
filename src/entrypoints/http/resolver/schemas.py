from datetime import datetime
from typing import Annotated

import msgspec

from application.resolver import EnabledRepository
from domain.resolver.entities import RepositoryHook

__all__ = ("ResolverRepositoryCreate", "ResolverRepositoryList", "ResolverRepositoryOut")


class ResolverRepositoryCreate(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True
):
    provider: Annotated[str, msgspec.Meta(examples=["gitlab"], max_length=32)]
    repository: Annotated[str, msgspec.Meta(examples=["acme/widgets"], max_length=255)]
    install: bool = True
    """Install the webhook through the provider's API; false: register it by hand with the
    secret in the answer."""


class ResolverRepositoryOut(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    id: str
    provider: str
    web_url: str
    repository: str
    managed: bool
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
