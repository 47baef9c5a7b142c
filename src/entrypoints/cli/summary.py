"""What ``maestrist check-config`` tells about a valid configuration: never a secret."""

from urllib.parse import urlsplit

from entrypoints.settings import Binding, RuntimeKind, Settings, parse_encryption_keys

__all__ = ("describe",)


def _where(url: str) -> str:
    """A database or Redis URL without its credentials: scheme, host, port and path."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _keys(ids: list[str], purpose: str) -> str:
    return f"{plural(len(ids), f'{purpose} key')} ({', '.join(ids)})"


def describe(settings: Settings) -> list[str]:
    """Lines saying how the server will run: binding, where data lives, what is turned on.

    Passwords in URLs, keys and client secrets are never shown; key ids are.
    """
    lines = [
        "configuration is valid",
        f"binding: {settings.binding.value}",
        f"listens on: {settings.host}:{settings.port}, {plural(settings.workers, 'worker')}",
        f"public URL: {settings.effective_public_url}",
    ]
    if settings.binding is Binding.EMBEDDED:
        lines.append(f"data: {settings.data_dir / 'maestrist.db'} (SQLite)")
        for name, value, generated in (
            ("encryption", settings.encryption_keys, "encryption-keys"),
            ("signing", settings.signing_keys, "signing-keys"),
        ):
            shown = (
                _keys(list(parse_encryption_keys(value)), name)
                if value
                else f"generated in {settings.data_dir / generated}"
            )
            lines.append(f"{name} keys: {shown}")
        lines.append(
            "credentials: an API key on every request (MAESTRIST_REQUIRE_API_KEY)"
            if settings.require_api_key
            else "credentials: none needed, requests act as the local user "
            f"{settings.local_user_email}"
        )
    else:
        assert settings.database_url is not None
        assert settings.redis_url is not None
        lines.append(f"database: {_where(settings.database_url)}")
        lines.append(f"redis: {_where(settings.redis_url)}")
        lines.append(f"encryption keys: {_keys(list(settings.encryption_key_map), 'encryption')}")
        lines.append(f"signing keys: {_keys(list(settings.signing_key_map), 'signing')}")
        lines.append(
            f"sign-in: {settings.oidc_issuer} as client {settings.oidc_client_id}"
            + (" with Keycloak administration" if settings.keycloak_enabled else "")
            if settings.oidc_issuer
            else "sign-in: off (API keys are the only credential)"
        )
    runtime = settings.runtime
    lines.append(
        f"runtime: {runtime.value}"
        + (
            f" (agent-server virtualenv {settings.agent_server_venv})"
            if runtime is RuntimeKind.LOCAL
            else f" (agent-server at {_where(settings.agent_server_url or '')})"
            if runtime is RuntimeKind.EXTERNAL
            else ""
        )
    )
    refreshed = [
        name
        for name, client_id in (
            ("GitHub", settings.github_client_id),
            ("GitLab", settings.gitlab_client_id),
            ("Bitbucket", settings.bitbucket_client_id),
        )
        if client_id is not None
    ]
    lines.append(f"git token refresh: {', '.join(refreshed) if refreshed else 'none configured'}")
    limits = [
        f"{limit} per {who}"
        for who, limit in (
            ("user", settings.conversation_limit_per_user),
            ("organization", settings.conversation_limit_per_org),
        )
        if limit is not None
    ]
    lines.append(
        "conversation limits: "
        + (
            f"{', '.join(limits)} ({settings.conversation_limit_policy.value})"
            if limits
            else "none"
        )
    )
    log_format = (
        settings.log_format.value if settings.log_format else "console on a terminal, else json"
    )
    lines.append(f"logs: {settings.log_level}, {log_format}, on stderr")
    return lines
