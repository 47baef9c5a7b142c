"""Typed settings, read from the environment in one place and validated at start-up."""

import base64
import ipaddress
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field, fields, replace
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from application.conversations.policy import LimitPolicy
from domain.git.providers import GitHost, ProviderKind
from domain.identity.value_objects import EmailAddress
from domain.shared.errors import InvalidValueError

__all__ = (
    "Binding",
    "LogFormat",
    "RuntimeKind",
    "Settings",
    "SettingsError",
    "default_data_dir",
    "is_loopback_http",
    "parse_encryption_keys",
)


class SettingsError(ValueError):
    """One or more environment variables are missing or malformed; each is named."""

    def __init__(self, problems: Mapping[str, str]) -> None:
        self.problems = dict(problems)
        lines = "\n".join(f"  {name}: {why}" for name, why in self.problems.items())
        super().__init__(f"Invalid configuration:\n{lines}")


class Binding(StrEnum):
    EMBEDDED = "embedded"
    CLUSTERED = "clustered"


class LogFormat(StrEnum):
    JSON = "json"
    CONSOLE = "console"


class RuntimeKind(StrEnum):
    SCRIPTED = "scripted"
    LOCAL = "local"
    EXTERNAL = "external"


_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def default_data_dir(environ: Mapping[str, str]) -> Path:
    """``$XDG_DATA_HOME/maestrist``, else ``~/.local/share/maestrist``."""
    base = environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "maestrist"


def _env(name: str, doc: str, *, shown: str | None = None, **kwargs: Any) -> Any:
    return field(metadata={"env": name, "doc": doc, "shown": shown}, **kwargs)


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """Everything the server reads from its environment. Build it with ``from_env``."""

    binding: Binding = _env(
        "MAESTRIST_BINDING",
        "`embedded` (SQLite file, in-process coordination, single local user) or "
        "`clustered` (PostgreSQL + Redis).",
        default=Binding.EMBEDDED,
    )
    data_dir: Path = _env(
        "MAESTRIST_DATA_DIR",
        "Where the embedded binding keeps its SQLite database.",
        shown="`$XDG_DATA_HOME/maestrist`, else `~/.local/share/maestrist`",
        default=Path("maestrist-data"),
    )
    database_url: str | None = _env(
        "MAESTRIST_DATABASE_URL",
        "Clustered only, required there: `postgresql+asyncpg://user:password@host:port/db`.",
        default=None,
        repr=False,
    )
    redis_url: str | None = _env(
        "MAESTRIST_REDIS_URL",
        "Clustered only, required there: `redis://[:password@]host:port/db` (or `rediss://`).",
        default=None,
        repr=False,
    )
    host: str = _env("MAESTRIST_HOST", "Interface the server listens on.", default="127.0.0.1")
    port: int = _env("MAESTRIST_PORT", "TCP port the server listens on (1-65535).", default=8000)
    workers: int = _env(
        "MAESTRIST_WORKERS",
        "Server worker processes. The embedded binding allows only 1.",
        default=1,
    )
    max_connections: int = _env(
        "MAESTRIST_MAX_CONNECTIONS",
        "Connections one worker serves at once (1-100000), idle keep-alive ones and "
        "websockets included; more wait in the listen queue until one closes.",
        default=4096,
    )
    backlog: int = _env(
        "MAESTRIST_BACKLOG",
        "Connections the kernel queues while every worker is at its limit (128-65535; the "
        "kernel's `net.core.somaxconn` caps it).",
        default=1024,
    )
    keep_alive_timeout_s: float = _env(
        "MAESTRIST_KEEP_ALIVE_TIMEOUT",
        "Seconds an HTTP/1.1 connection may stay idle between requests (and a client may "
        "take to send a request's headers) before the server closes it. Behind a proxy that "
        "keeps connections open, set it above the proxy's idle timeout.",
        default=5.0,
    )
    log_level: str = _env(
        "MAESTRIST_LOG_LEVEL", "`DEBUG`, `INFO`, `WARNING` or `ERROR`.", default="INFO"
    )
    log_format: LogFormat | None = _env(
        "MAESTRIST_LOG_FORMAT",
        "`json` (one object a line, for collectors) or `console` (for people). Logs go to "
        "stderr; standard output carries only what a command prints as its result.",
        shown="`console` when stderr is a terminal, else `json`",
        default=None,
    )
    access_log: bool = _env(
        "MAESTRIST_ACCESS_LOG",
        "Log one line per request with method, path, status, duration and request id.",
        default=True,
    )
    cors_origins: tuple[str, ...] = _env(
        "MAESTRIST_CORS_ORIGINS",
        "Comma-separated origins allowed to call the API from a browser "
        "(`https://app.example.com`); empty disables CORS.",
        default=(),
    )
    db_pool_size: int = _env(
        "MAESTRIST_DB_POOL_SIZE",
        "PostgreSQL connections kept per worker (as many again may overflow).",
        default=10,
    )
    redis_max_connections: int = _env(
        "MAESTRIST_REDIS_MAX_CONNECTIONS", "Redis connections per worker at most.", default=50
    )
    dependency_timeout_s: float = _env(
        "MAESTRIST_DEPENDENCY_TIMEOUT",
        "Seconds to wait for PostgreSQL or Redis to connect or answer a readiness probe.",
        default=2.0,
    )
    shutdown_timeout_s: float = _env(
        "MAESTRIST_SHUTDOWN_TIMEOUT",
        "Seconds in-flight requests get to finish after SIGTERM before workers are stopped.",
        default=30.0,
    )
    public_url: str | None = _env(
        "MAESTRIST_PUBLIC_URL",
        "Origin browsers use to reach the server (`https://maestrist.example.com`); sign-in "
        "redirects and cookie security derive from it.",
        shown="`http://<MAESTRIST_HOST>:<MAESTRIST_PORT>`",
        default=None,
    )
    oidc_issuer: str | None = _env(
        "MAESTRIST_OIDC_ISSUER",
        "Clustered only: OpenID Connect issuer URL (a Keycloak realm: "
        "`https://sso.example.com/realms/maestrist`). Setting it turns on sign-in.",
        default=None,
    )
    oidc_client_id: str | None = _env(
        "MAESTRIST_OIDC_CLIENT_ID", "The server's client id at the issuer.", default=None
    )
    oidc_client_secret: str | None = _env(
        "MAESTRIST_OIDC_CLIENT_SECRET",
        "The server's client secret at the issuer.",
        default=None,
        repr=False,
    )
    oidc_scopes: str = _env(
        "MAESTRIST_OIDC_SCOPES", "Scopes asked for at sign-in.", default="openid email profile"
    )
    keycloak_url: str | None = _env(
        "MAESTRIST_KEYCLOAK_URL",
        "Clustered, with sign-in: Keycloak's root URL. Turns on email changes, verification "
        "links and keeping the GitHub/GitLab/Bitbucket token Keycloak brokered at sign-in "
        "(the client's service account needs `manage-users`).",
        default=None,
    )
    keycloak_realm: str | None = _env(
        "MAESTRIST_KEYCLOAK_REALM",
        "The Keycloak realm, with `MAESTRIST_KEYCLOAK_URL`.",
        default=None,
    )
    session_max_age_s: int = _env(
        "MAESTRIST_SESSION_MAX_AGE",
        "Seconds a session lasts when the issuer does not say how long its refresh token "
        "lives (Keycloak does, and then that wins).",
        default=14 * 24 * 3600,
    )
    token_refresh_margin_s: int = _env(
        "MAESTRIST_TOKEN_REFRESH_MARGIN",
        "Seconds before an access token expires that the server refreshes it.",
        default=30,
    )
    sign_in_starts_per_client: int = _env(
        "MAESTRIST_SIGN_IN_STARTS_PER_CLIENT",
        "Sign-ins one client address (an IPv6 one by its /64) may start within ten minutes "
        "(1-100000); more answer 429 until the ten minutes end.",
        default=30,
    )
    trusted_proxies: tuple[str, ...] | None = _env(
        "MAESTRIST_TRUSTED_PROXIES",
        "Addresses or networks of the reverse proxies in front of the server "
        "(`10.0.0.0/8,192.0.2.1`): from them, `X-Forwarded-For` names the client. Unset, the "
        "client is the address that connected and `X-Forwarded-For` is ignored.",
        default=None,
    )
    encryption_keys: str | None = _env(
        "MAESTRIST_ENCRYPTION_KEYS",
        "Keys sealing what users entrust to us (tokens, LLM keys, secrets): "
        "`id:base64url-32-bytes,...`; the first seals, all open. Required in the clustered "
        "binding. Make one with `maestrist new-key`. The embedded binding, without it, keeps a "
        "generated key in `<MAESTRIST_DATA_DIR>/encryption-keys` (0600).",
        default=None,
        repr=False,
    )
    signing_keys: str | None = _env(
        "MAESTRIST_SIGNING_KEYS",
        "Keys signing short-lived credentials (the agent runtime's git token grant), never "
        "the same as an encryption key: `id:base64url-32-bytes,...`; the first signs, all "
        "verify. Required in the clustered binding. Make one with `maestrist new-key`. The "
        "embedded binding, without it, keeps a generated key in "
        "`<MAESTRIST_DATA_DIR>/signing-keys` (0600).",
        default=None,
        repr=False,
    )
    runtime_credential_ttl_s: int = _env(
        "MAESTRIST_RUNTIME_CREDENTIAL_TTL",
        "Seconds a runtime's git credential stays valid (30-3600); the runtime exchanges it "
        "at `GET /api/runtime/git-token` for the current provider token.",
        default=600,
    )
    terms_version: str | None = _env(
        "MAESTRIST_TERMS_VERSION",
        "Version of the terms of service people must accept before using the API; unset: none.",
        default=None,
    )
    terms_url: str | None = _env(
        "MAESTRIST_TERMS_URL", "Where the terms of service can be read.", default=None
    )
    require_api_key: bool = _env(
        "MAESTRIST_REQUIRE_API_KEY",
        "Embedded only: refuse requests without an API key instead of acting as the local "
        "user (`maestrist api-key create` makes the first one).",
        default=False,
    )
    local_user_email: str = _env(
        "MAESTRIST_LOCAL_USER_EMAIL",
        "Embedded only: email of the single local user created on first start.",
        default="local@localhost",
    )
    local_user_name: str = _env(
        "MAESTRIST_LOCAL_USER_NAME",
        "Embedded only: display name of the single local user.",
        default="Local user",
    )
    github_url: str = _env(
        "MAESTRIST_GITHUB_URL",
        "Web address of GitHub's public cloud; its API (`https://api.github.com` for "
        "github.com, else `<url>/api/v3`) and OAuth token endpoint derive from it. Change it "
        "only to point the server at a stand-in.",
        default="https://github.com",
    )
    gitlab_url: str = _env(
        "MAESTRIST_GITLAB_URL",
        "Web address of GitLab's public cloud; its API (`<url>/api/v4`) and OAuth token "
        "endpoint derive from it.",
        default="https://gitlab.com",
    )
    bitbucket_url: str = _env(
        "MAESTRIST_BITBUCKET_URL",
        "Web address of Bitbucket Cloud; its API (`https://api.bitbucket.org/2.0` for "
        "bitbucket.org, else `<url>/!api/2.0`) and OAuth token endpoint derive from it.",
        default="https://bitbucket.org",
    )
    github_client_id: str | None = _env(
        "MAESTRIST_GITHUB_CLIENT_ID",
        "Client id of the GitHub OAuth app (or GitHub App) whose expiring user tokens the "
        "server refreshes (those Keycloak brokered at sign-in); unset: a GitHub token that "
        "expires asks its user to connect GitHub again.",
        default=None,
    )
    github_client_secret: str | None = _env(
        "MAESTRIST_GITHUB_CLIENT_SECRET",
        "Its client secret, with `MAESTRIST_GITHUB_CLIENT_ID`.",
        default=None,
        repr=False,
    )
    gitlab_client_id: str | None = _env(
        "MAESTRIST_GITLAB_CLIENT_ID",
        "Application id of the GitLab OAuth application the server refreshes GitLab tokens "
        "with (GitLab's expire after 2 hours).",
        default=None,
    )
    gitlab_client_secret: str | None = _env(
        "MAESTRIST_GITLAB_CLIENT_SECRET",
        "Its secret, with `MAESTRIST_GITLAB_CLIENT_ID`.",
        default=None,
        repr=False,
    )
    bitbucket_client_id: str | None = _env(
        "MAESTRIST_BITBUCKET_CLIENT_ID",
        "Key of the Bitbucket OAuth consumer the server refreshes Bitbucket tokens with.",
        default=None,
    )
    bitbucket_client_secret: str | None = _env(
        "MAESTRIST_BITBUCKET_CLIENT_SECRET",
        "Its secret, with `MAESTRIST_BITBUCKET_CLIENT_ID`.",
        default=None,
        repr=False,
    )
    git_token_refresh_margin_s: int = _env(
        "MAESTRIST_GIT_TOKEN_REFRESH_MARGIN",
        "Seconds a git provider token must still be valid when handed out (0-3600); one "
        "expiring sooner is refreshed first.",
        default=300,
    )
    git_self_hosted_urls: tuple[str, ...] | None = _env(
        "MAESTRIST_GIT_SELF_HOSTED_URLS",
        "Base URLs of the GitHub Enterprise and self-managed GitLab servers users may connect "
        "with a personal token (`https://ghe.example.com,https://gitlab.example.com`), or `*` "
        "for any. Unset: any in the embedded binding, none in the clustered one, so users "
        "cannot make a shared server call hosts of their choosing.",
        default=None,
    )
    brokered_git_hosts: tuple[tuple[str, GitHost], ...] | None = _env(
        "MAESTRIST_BROKERED_GIT_HOSTS",
        "With `MAESTRIST_KEYCLOAK_URL`: the git host behind each Keycloak identity provider "
        "alias whose token to keep at sign-in, `alias=provider[:base-url],...` "
        "(`github=github,corp-github=github:https://ghe.example.com`). Unset: the aliases "
        "`github`, `gitlab` and `bitbucket` broker their public clouds.",
        default=None,
    )
    runtime: RuntimeKind = _env(
        "MAESTRIST_RUNTIME",
        "Where agents run: `local` (the OpenHands agent-server as a child process, from its "
        "own virtualenv), `external` (an agent-server operators run) or `scripted` (canned "
        "answers in-process, no LLM: for demos and tests).",
        default=RuntimeKind.LOCAL,
    )
    agent_server_venv: Path = _env(
        "MAESTRIST_AGENT_SERVER_VENV",
        "Local runtime: the agent-server's virtualenv; `maestrist serve` builds it in the "
        "background when it is missing, `just agent-server-env` in the foreground.",
        default=Path(".venv-agent-server"),
    )
    agent_server_python: str | None = _env(
        "MAESTRIST_AGENT_SERVER_PYTHON",
        "Local runtime: the Python 3.12 or newer that builds that virtualenv. Unset: the "
        "first of `python3.13`, `python3.12`, `python3` and pyenv's versions that runs.",
        default=None,
    )
    agent_server_url: str | None = _env(
        "MAESTRIST_AGENT_SERVER_URL",
        "External runtime, required there: the agent-server's base URL.",
        default=None,
    )
    agent_server_key: str | None = _env(
        "MAESTRIST_AGENT_SERVER_KEY",
        "External runtime, required there: its session API key.",
        default=None,
        repr=False,
    )
    agent_server_startup_timeout_s: float = _env(
        "MAESTRIST_AGENT_SERVER_STARTUP_TIMEOUT",
        "Local runtime: seconds the agent-server gets to become ready.",
        default=90.0,
    )
    conversation_limit_per_user: int | None = _env(
        "MAESTRIST_CONVERSATION_LIMIT_PER_USER",
        "Conversations one person may have running (starting, working, idle or waiting for a "
        "confirmation) at once in an organization (1-1000). Unset: no limit.",
        default=None,
    )
    conversation_limit_per_org: int | None = _env(
        "MAESTRIST_CONVERSATION_LIMIT_PER_ORG",
        "Conversations an organization's members may have running at once, together "
        "(1-100000). Unset: no limit.",
        default=None,
    )
    conversation_limit_policy: LimitPolicy = _env(
        "MAESTRIST_CONVERSATION_LIMIT_POLICY",
        "What starting one conversation too many does: `reject` (409 naming the limit) or "
        "`pause_oldest` (pause the least recently active idle one; 409 when none is idle).",
        default=LimitPolicy.REJECT,
    )
    conversation_lease_ttl_s: int = _env(
        "MAESTRIST_CONVERSATION_LEASE_TTL",
        "Clustered: seconds a server's claim on a conversation's events outlives the server "
        "(3-600), renewed every third of it while the server lives: a conversation whose "
        "server died can be taken over by another one this long after.",
        default=30,
    )

    @property
    def effective_database_url(self) -> str:
        if self.binding is Binding.CLUSTERED:
            assert self.database_url is not None
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / 'maestrist.db'}"

    @property
    def effective_public_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def sign_in_enabled(self) -> bool:
        return self.oidc_issuer is not None

    @property
    def keycloak_enabled(self) -> bool:
        return self.sign_in_enabled and self.keycloak_url is not None

    @property
    def encryption_key_map(self) -> dict[str, bytes]:
        return parse_encryption_keys(self.encryption_keys or "")

    @property
    def signing_key_map(self) -> dict[str, bytes]:
        return parse_encryption_keys(self.signing_keys or "")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        """Parse and validate; raises ``SettingsError`` naming every bad variable at once."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        problems: dict[str, str] = {}
        for spec in fields(cls):
            name = spec.metadata["env"]
            raw = env.get(name)
            if raw is None or raw.strip() == "":
                continue
            try:
                values[spec.name] = _PARSERS[spec.name](raw.strip())
            except ValueError as exc:
                problems[name] = str(exc)
        if "data_dir" not in values:
            values["data_dir"] = default_data_dir(env)
        settings = cls(**values)
        problems.update(settings.problems())
        if problems:
            raise SettingsError(problems)
        return settings

    def problems(self) -> dict[str, str]:
        """Rules that span several settings, keyed by the variable to change."""
        if self.binding is Binding.CLUSTERED:
            return {
                **self._clustered_problems(),
                **self._sign_in_problems(),
                **self._git_problems(),
                **self._runtime_problems(),
            }
        return {**self._embedded_problems(), **self._git_problems(), **self._runtime_problems()}

    def _runtime_problems(self) -> dict[str, str]:
        if self.runtime is RuntimeKind.EXTERNAL:
            return {
                name: "required when MAESTRIST_RUNTIME=external"
                for name, value in (
                    ("MAESTRIST_AGENT_SERVER_URL", self.agent_server_url),
                    ("MAESTRIST_AGENT_SERVER_KEY", self.agent_server_key),
                )
                if value is None
            }
        return {
            name: "only MAESTRIST_RUNTIME=external uses it"
            for name, value in (
                ("MAESTRIST_AGENT_SERVER_URL", self.agent_server_url),
                ("MAESTRIST_AGENT_SERVER_KEY", self.agent_server_key),
            )
            if value is not None
        }

    def _git_problems(self) -> dict[str, str]:
        found = {
            f"MAESTRIST_{name}_CLIENT_SECRET": f"set both MAESTRIST_{name}_CLIENT_ID and its secret"
            for name, client_id, secret in (
                ("GITHUB", self.github_client_id, self.github_client_secret),
                ("GITLAB", self.gitlab_client_id, self.gitlab_client_secret),
                ("BITBUCKET", self.bitbucket_client_id, self.bitbucket_client_secret),
            )
            if (client_id is None) != (secret is None)
        }
        if self.brokered_git_hosts is not None and not self.keycloak_enabled:
            found["MAESTRIST_BROKERED_GIT_HOSTS"] = "needs MAESTRIST_KEYCLOAK_URL"
        return found

    def _clustered_problems(self) -> dict[str, str]:
        found: dict[str, str] = {}
        if self.database_url is None:
            found["MAESTRIST_DATABASE_URL"] = "required when MAESTRIST_BINDING=clustered"
        elif not self.database_url.startswith("postgresql+asyncpg://"):
            found["MAESTRIST_DATABASE_URL"] = "must start with postgresql+asyncpg://"
        if self.redis_url is None:
            found["MAESTRIST_REDIS_URL"] = "required when MAESTRIST_BINDING=clustered"
        if self.require_api_key:
            found["MAESTRIST_REQUIRE_API_KEY"] = (
                "only the embedded binding uses it; the clustered one always needs credentials"
            )
        for name, value in (
            ("MAESTRIST_ENCRYPTION_KEYS", self.encryption_keys),
            ("MAESTRIST_SIGNING_KEYS", self.signing_keys),
        ):
            if value is None:
                found[name] = "required when MAESTRIST_BINDING=clustered (`maestrist new-key`)"
        if (
            self.encryption_keys is not None
            and self.signing_keys is not None
            and set(self.encryption_key_map.values()) & set(self.signing_key_map.values())
        ):
            found["MAESTRIST_SIGNING_KEYS"] = "a signing key must not also be an encryption key"
        return found

    def _sign_in_problems(self) -> dict[str, str]:
        if self.oidc_issuer is None:
            return {
                name: "needs MAESTRIST_OIDC_ISSUER"
                for name, value in (
                    ("MAESTRIST_KEYCLOAK_URL", self.keycloak_url),
                    ("MAESTRIST_KEYCLOAK_REALM", self.keycloak_realm),
                )
                if value is not None
            }
        if (self.keycloak_url is None) != (self.keycloak_realm is None):
            return {"MAESTRIST_KEYCLOAK_REALM": "set both MAESTRIST_KEYCLOAK_URL and the realm"}
        found = {
            name: "required when MAESTRIST_OIDC_ISSUER is set"
            for name, value in (
                ("MAESTRIST_OIDC_CLIENT_ID", self.oidc_client_id),
                ("MAESTRIST_OIDC_CLIENT_SECRET", self.oidc_client_secret),
                ("MAESTRIST_ENCRYPTION_KEYS", self.encryption_keys),
            )
            if value is None
        }
        public = self.effective_public_url
        if not public.startswith("https://") and not is_loopback_http(public):
            found["MAESTRIST_PUBLIC_URL"] = (
                "sign-in needs https, except on a loopback host for development"
            )
        return found

    def _embedded_problems(self) -> dict[str, str]:
        found = {
            name: "only the clustered binding uses it; set MAESTRIST_BINDING"
            for name, value in (
                ("MAESTRIST_DATABASE_URL", self.database_url),
                ("MAESTRIST_REDIS_URL", self.redis_url),
                ("MAESTRIST_OIDC_ISSUER", self.oidc_issuer),
                ("MAESTRIST_KEYCLOAK_URL", self.keycloak_url),
            )
            if value is not None
        }
        if self.workers != 1:
            found["MAESTRIST_WORKERS"] = (
                "the embedded binding coordinates in-process, so it runs 1 worker"
            )
        return found

    def with_changes(self, **changes: Any) -> "Settings":
        return replace(self, **changes)

    @classmethod
    def reference(cls) -> list[tuple[str, str, str]]:
        """(variable, default, description) for every setting, in declaration order."""
        rows = []
        for spec in fields(cls):
            shown = spec.metadata["shown"] or _shown(spec.default)
            rows.append((spec.metadata["env"], shown, spec.metadata["doc"]))
        return rows


def _shown(default: object) -> str:
    if default is MISSING or default is None or default == ():
        return ""
    if isinstance(default, bool):
        return str(default).lower()
    return str(default)


def _int_in(low: int, high: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise ValueError(f"expected a whole number, got {raw!r}") from None
        if not low <= value <= high:
            raise ValueError(f"expected {low} to {high}, got {value}")
        return value

    return parse


def _positive_float(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"expected a number of seconds, got {raw!r}") from None
    if not 0 < value <= 3600:
        raise ValueError(f"expected more than 0 and at most 3600, got {raw}")
    return value


_E = TypeVar("_E", bound=StrEnum)


def _choice(kind: type[_E]) -> Callable[[str], _E]:
    def parse(raw: str) -> _E:
        try:
            return kind(raw.lower())
        except ValueError:
            allowed = ", ".join(member.value for member in kind)
            raise ValueError(f"expected one of {allowed}, got {raw!r}") from None

    return parse


def _bool(raw: str) -> bool:
    lowered = raw.lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"expected true or false, got {raw!r}")


def _log_level(raw: str) -> str:
    if raw.upper() not in _LOG_LEVELS:
        raise ValueError(f"expected one of {', '.join(_LOG_LEVELS)}, got {raw!r}")
    return raw.upper()


def _url(*schemes: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        parts = urlsplit(raw)
        if parts.scheme not in schemes or not parts.hostname:
            raise ValueError(f"expected a {' or '.join(schemes)} URL with a host")
        return raw

    return parse


_ORIGIN = re.compile(r"https?://[^/\s:]+(:\d{1,5})?")


def _origins(raw: str) -> tuple[str, ...]:
    origins = tuple(part.strip().rstrip("/") for part in raw.split(",") if part.strip())
    bad = [origin for origin in origins if origin != "*" and not _ORIGIN.fullmatch(origin)]
    if bad:
        raise ValueError(f"expected origins like https://app.example.com, got {', '.join(bad)}")
    return origins


def _host(raw: str) -> str:
    if any(ch.isspace() for ch in raw) or "/" in raw:
        raise ValueError(f"expected a host name or IP address, got {raw!r}")
    return raw


def _text(raw: str) -> str:
    return raw


def _terms_version(raw: str) -> str:
    if len(raw) > 64 or not raw.isprintable():
        raise ValueError("expected at most 64 printable characters")
    return raw


def _display_name(raw: str) -> str:
    if len(raw) > 200 or any(ord(ch) < 32 for ch in raw):
        raise ValueError("expected at most 200 printable characters")
    return raw


def _email(raw: str) -> str:
    try:
        return EmailAddress(raw).value
    except InvalidValueError as exc:
        raise ValueError(exc.message) from None


def _web_url(raw: str) -> str:
    parts = urlsplit(raw)
    if (
        parts.scheme not in {"http", "https"}
        or not parts.hostname
        or parts.query
        or parts.fragment
        or parts.username
        or parts.password
    ):
        raise ValueError("expected an http(s) URL with a host and no credentials or query")
    if parts.scheme == "http" and not is_loopback_http(raw):
        raise ValueError("expected https, except on a loopback host for development")
    return raw.rstrip("/")


_ALIAS = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def _path(raw: str) -> Path:
    """A path; ``~`` and ``~user`` expand, and a user that does not exist is refused."""
    try:
        return Path(raw).expanduser()
    except RuntimeError:
        raise ValueError(f"{raw[:60]} names a home directory that does not exist") from None


def _networks(raw: str) -> tuple[str, ...]:
    networks: list[str] = []
    for part in (p.strip() for p in raw.split(",") if p.strip()):
        try:
            networks.append(str(ipaddress.ip_network(part, strict=False)))
        except ValueError:
            raise ValueError(f"{part[:60]} is not an IP address or network") from None
    if not networks:
        raise ValueError("list addresses or networks, separated by commas")
    return tuple(networks)


def _git_self_hosted_urls(raw: str) -> tuple[str, ...]:
    if raw.strip() == "*":
        return ("*",)
    urls: list[str] = []
    for part in (p.strip() for p in raw.split(",") if p.strip()):
        parts = urlsplit(part)
        if (
            parts.scheme not in ("https", "http")
            or not parts.hostname
            or parts.query
            or parts.fragment
            or parts.username
            or parts.password
        ):
            raise ValueError(f"{part[:60]} is not an http(s) base URL")
        urls.append(part.rstrip("/"))
    if not urls:
        raise ValueError("list base URLs, or * for any")
    return tuple(urls)


def _brokered_git_hosts(raw: str) -> tuple[tuple[str, GitHost], ...]:
    """``alias=provider[:base-url],...`` -> (alias, host) pairs."""
    pairs: dict[str, GitHost] = {}
    for part in (p.strip() for p in raw.split(",") if p.strip()):
        alias, sep, target = part.partition("=")
        alias = alias.strip()
        kind, _, base_url = target.strip().partition(":")
        if not sep or not _ALIAS.fullmatch(alias):
            raise ValueError("write each entry as alias=provider[:base-url]")
        if alias in pairs:
            raise ValueError(f"alias {alias} appears twice")
        try:
            pairs[alias] = GitHost(ProviderKind.parse(kind), base_url or None)
        except InvalidValueError as exc:
            raise ValueError(f"{alias}: {exc.message}") from None
    if not pairs:
        raise ValueError("at least one alias=provider is needed")
    return tuple(pairs.items())


_KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")


def parse_encryption_keys(spec: str) -> dict[str, bytes]:
    """``id:base64url-key,...`` -> ordered mapping of 32-byte keys; the first one seals."""
    keys: dict[str, bytes] = {}
    for part in (p.strip() for p in spec.split(",") if p.strip()):
        key_id, sep, encoded = part.partition(":")
        if not sep or not _KEY_ID.fullmatch(key_id):
            raise ValueError("write each key as id:base64url-of-32-bytes, ids of A-Z a-z 0-9 _ -")
        try:
            key = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        except ValueError:
            raise ValueError(f"key {key_id} is not base64url") from None
        if len(key) != 32:
            raise ValueError(f"key {key_id} has {len(key)} bytes; 32 are needed")
        if key_id in keys:
            raise ValueError(f"key id {key_id} appears twice")
        keys[key_id] = key
    if not keys:
        raise ValueError("at least one key is needed")
    return keys


def _encryption_keys(raw: str) -> str:
    parse_encryption_keys(raw)
    return raw


def is_loopback_http(url: str) -> bool:
    """Plain HTTP to this machine (``localhost``, ``*.localhost``, 127.0.0.1, ::1)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    loopback = host in {"localhost", "127.0.0.1", "::1"} or host.endswith(".localhost")
    return parts.scheme == "http" and loopback


def _public_url(raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.path not in {"", "/"}:
        raise ValueError("expected an origin like https://maestrist.example.com, with no path")
    return raw.rstrip("/")


_PARSERS: dict[str, Callable[[str], Any]] = {
    "binding": _choice(Binding),
    "data_dir": _path,
    "database_url": _url("postgresql+asyncpg", "postgresql", "postgres"),
    "redis_url": _url("redis", "rediss"),
    "host": _host,
    "port": _int_in(1, 65535),
    "workers": _int_in(1, 64),
    "max_connections": _int_in(1, 100_000),
    "backlog": _int_in(128, 65535),
    "keep_alive_timeout_s": _positive_float,
    "log_level": _log_level,
    "log_format": _choice(LogFormat),
    "access_log": _bool,
    "cors_origins": _origins,
    "db_pool_size": _int_in(1, 200),
    "redis_max_connections": _int_in(1, 10_000),
    "dependency_timeout_s": _positive_float,
    "shutdown_timeout_s": _positive_float,
    "public_url": _public_url,
    "oidc_issuer": _url("https", "http"),
    "oidc_client_id": _text,
    "oidc_client_secret": _text,
    "oidc_scopes": _text,
    "keycloak_url": _url("https", "http"),
    "keycloak_realm": _text,
    "session_max_age_s": _int_in(300, 400 * 24 * 3600),
    "token_refresh_margin_s": _int_in(0, 3600),
    "sign_in_starts_per_client": _int_in(1, 100_000),
    "trusted_proxies": _networks,
    "encryption_keys": _encryption_keys,
    "signing_keys": _encryption_keys,
    "runtime_credential_ttl_s": _int_in(30, 3600),
    "terms_version": _terms_version,
    "terms_url": _url("https", "http"),
    "require_api_key": _bool,
    "local_user_email": _email,
    "local_user_name": _display_name,
    "github_url": _web_url,
    "gitlab_url": _web_url,
    "bitbucket_url": _web_url,
    "github_client_id": _text,
    "github_client_secret": _text,
    "gitlab_client_id": _text,
    "gitlab_client_secret": _text,
    "bitbucket_client_id": _text,
    "bitbucket_client_secret": _text,
    "git_token_refresh_margin_s": _int_in(0, 3600),
    "brokered_git_hosts": _brokered_git_hosts,
    "git_self_hosted_urls": _git_self_hosted_urls,
    "runtime": _choice(RuntimeKind),
    "agent_server_venv": _path,
    "agent_server_python": _text,
    "agent_server_url": _url("http", "https"),
    "agent_server_key": _text,
    "agent_server_startup_timeout_s": _positive_float,
    "conversation_limit_per_user": _int_in(1, 1000),
    "conversation_limit_per_org": _int_in(1, 100_000),
    "conversation_limit_policy": _choice(LimitPolicy),
    "conversation_lease_ttl_s": _int_in(3, 600),
}
