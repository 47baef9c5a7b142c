"""The whole configuration: the binding and data directory, then one section per family."""

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from entrypoints.settings.analytics import AnalyticsSettings
from entrypoints.settings.billing import BillingSettings
from entrypoints.settings.conversations import ConversationSettings
from entrypoints.settings.crypto import CryptoSettings
from entrypoints.settings.database import DatabaseSettings
from entrypoints.settings.embedded import EmbeddedSettings
from entrypoints.settings.fields import (
    Binding,
    Section,
    SettingsError,
    read_fields,
    reference_rows,
    section,
    setting,
)
from entrypoints.settings.git import GitSettings
from entrypoints.settings.identity import IdentitySettings
from entrypoints.settings.jobs import JobSettings
from entrypoints.settings.mail import MailSettings
from entrypoints.settings.metrics import MetricsSettings
from entrypoints.settings.parsers import choice, is_loopback_http, path, seconds
from entrypoints.settings.rate_limits import RateLimitSettings
from entrypoints.settings.redis import RedisSettings
from entrypoints.settings.resolver import ResolverSettings
from entrypoints.settings.runtime import RuntimeSettings
from entrypoints.settings.server import ServerSettings
from entrypoints.settings.webhooks import WebhookSettings

__all__ = ("Settings", "default_data_dir")


def default_data_dir(environ: Mapping[str, str]) -> Path:
    """``$XDG_DATA_HOME/maestrist``, else ``~/.local/share/maestrist``."""
    base = environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "maestrist"


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """Everything the server reads from its environment. Build it with ``from_env``."""

    binding: Binding = setting(
        "MAESTRIST_BINDING",
        "`embedded` (SQLite file, in-process coordination, single local user) or "
        "`clustered` (PostgreSQL + Redis).",
        choice(Binding),
        default=Binding.EMBEDDED,
    )
    data_dir: Path = setting(
        "MAESTRIST_DATA_DIR",
        "Where the embedded binding keeps its SQLite database.",
        path,
        shown="`$XDG_DATA_HOME/maestrist`, else `~/.local/share/maestrist`",
        default=Path("maestrist-data"),
    )
    database: DatabaseSettings = section(DatabaseSettings)
    redis: RedisSettings = section(RedisSettings)
    dependency_timeout_s: float = setting(
        "MAESTRIST_DEPENDENCY_TIMEOUT",
        "Seconds to wait for PostgreSQL or Redis to connect or answer a readiness probe.",
        seconds,
        default=2.0,
    )
    server: ServerSettings = section(ServerSettings)
    identity: IdentitySettings = section(IdentitySettings)
    crypto: CryptoSettings = section(CryptoSettings)
    embedded: EmbeddedSettings = section(EmbeddedSettings)
    git: GitSettings = section(GitSettings)
    runtime: RuntimeSettings = section(RuntimeSettings)
    conversations: ConversationSettings = section(ConversationSettings)
    jobs: JobSettings = section(JobSettings)
    mail: MailSettings = section(MailSettings)
    webhooks: WebhookSettings = section(WebhookSettings)
    billing: BillingSettings = section(BillingSettings)
    resolver: ResolverSettings = section(ResolverSettings)
    rate_limits: RateLimitSettings = section(RateLimitSettings)
    metrics: MetricsSettings = section(MetricsSettings)
    analytics: AnalyticsSettings = section(AnalyticsSettings)

    @property
    def effective_database_url(self) -> str:
        if self.binding is Binding.CLUSTERED:
            assert self.database.url is not None
            return self.database.url
        return f"sqlite+aiosqlite:///{self.data_dir / 'maestrist.db'}"

    @property
    def sections(self) -> tuple[Section, ...]:
        return tuple(
            getattr(self, spec.name) for spec in fields(self) if "section" in spec.metadata
        )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        """Parse and validate; raises ``SettingsError`` naming every bad variable at once."""
        env = os.environ if environ is None else environ
        problems: dict[str, str] = {}
        values = read_fields(cls, env, problems)
        values.setdefault("data_dir", default_data_dir(env))
        for spec in fields(cls):
            if "section" in spec.metadata:
                kind = spec.metadata["section"]
                values[spec.name] = kind(**read_fields(kind, env, problems))
        settings = cls(**values)
        problems.update(settings.problems())
        if problems:
            raise SettingsError(problems)
        return settings

    def problems(self) -> dict[str, str]:
        """Rules that span several settings, keyed by the variable to change."""
        found: dict[str, str] = {}
        for part in self.sections:
            found.update(part.problems(self.binding))
        if self.git.brokered_hosts is not None and not self.identity.keycloak_enabled:
            found["MAESTRIST_BROKERED_GIT_HOSTS"] = "needs MAESTRIST_KEYCLOAK_URL"
        if self.binding is Binding.CLUSTERED and self.identity.sign_in_enabled:
            if self.crypto.encryption_keys is None:
                found["MAESTRIST_ENCRYPTION_KEYS"] = "required when MAESTRIST_OIDC_ISSUER is set"
            public = self.server.effective_public_url
            if not public.startswith("https://") and not is_loopback_http(public):
                found["MAESTRIST_PUBLIC_URL"] = (
                    "sign-in needs https, except on a loopback host for development"
                )
        return found

    @property
    def mail_sender(self) -> str:
        """The From of every mail: ``MAESTRIST_MAIL_FROM``, else one at the public host."""
        host = urlsplit(self.server.effective_public_url).hostname or "localhost"
        return self.mail.sender or f"Maestrist <noreply@{host}>"

    def with_changes(self, **changes: Any) -> "Settings":
        return replace(self, **changes)

    @classmethod
    def reference(cls) -> list[tuple[str, str, str]]:
        """(variable, default, description) for every setting, in declaration order."""
        return reference_rows(cls)
