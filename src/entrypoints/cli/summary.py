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
    server = settings.server
    lines = [
        "configuration is valid",
        f"binding: {settings.binding.value}",
        f"listens on: {server.host}:{server.port}, {plural(server.workers, 'worker')}",
        f"public URL: {server.effective_public_url}",
    ]
    if settings.binding is Binding.EMBEDDED:
        lines.append(f"data: {settings.data_dir / 'maestrist.db'} (SQLite)")
        for name, value, generated in (
            ("encryption", settings.crypto.encryption_keys, "encryption-keys"),
            ("signing", settings.crypto.signing_keys, "signing-keys"),
        ):
            shown = (
                _keys(list(parse_encryption_keys(value)), name)
                if value
                else f"generated in {settings.data_dir / generated}"
            )
            lines.append(f"{name} keys: {shown}")
        lines.append(
            "credentials: an API key on every request (MAESTRIST_REQUIRE_API_KEY)"
            if settings.embedded.require_api_key
            else "credentials: none needed, requests act as the local user "
            f"{settings.embedded.local_user_email}"
        )
    else:
        assert settings.database.url is not None
        assert settings.redis.url is not None
        lines.append(f"database: {_where(settings.database.url)}")
        lines.append(f"redis: {_where(settings.redis.url)}")
        lines.append(
            f"encryption keys: {_keys(list(settings.crypto.encryption_key_map), 'encryption')}"
        )
        lines.append(f"signing keys: {_keys(list(settings.crypto.signing_key_map), 'signing')}")
        lines.append(
            f"sign-in: {settings.identity.oidc_issuer} as client {settings.identity.oidc_client_id}"
            + (" with Keycloak administration" if settings.identity.keycloak_enabled else "")
            if settings.identity.oidc_issuer
            else "sign-in: off (API keys are the only credential)"
        )
    runtime = settings.runtime.kind
    lines.append(
        f"runtime: {runtime.value}"
        + (
            f" (agent-server virtualenv {settings.runtime.agent_server_venv})"
            if runtime is RuntimeKind.LOCAL
            else f" (agent-server at {_where(settings.runtime.agent_server_url or '')})"
            if runtime is RuntimeKind.EXTERNAL
            else ""
        )
    )
    refreshed = [
        name
        for name, client_id in (
            ("GitHub", settings.git.github_client_id),
            ("GitLab", settings.git.gitlab_client_id),
            ("Bitbucket", settings.git.bitbucket_client_id),
        )
        if client_id is not None
    ]
    lines.append(f"git token refresh: {', '.join(refreshed) if refreshed else 'none configured'}")
    limits = [
        f"{limit} per {who}"
        for who, limit in (
            ("user", settings.conversations.limit_per_user),
            ("organization", settings.conversations.limit_per_org),
        )
        if limit is not None
    ]
    lines.append(
        "conversation limits: "
        + (
            f"{', '.join(limits)} ({settings.conversations.limit_policy.value})"
            if limits
            else "none"
        )
    )
    jobs = settings.jobs
    lines.append(
        f"jobs: {jobs.concurrency} at once per "
        + ("server worker" if jobs.in_serve else "`maestrist worker` process (not in serve)")
        + f", finished ones kept {jobs.keep_done_days} days, "
        f"pruned at `{jobs.prune_schedule.expression}` UTC"
    )
    github = settings.webhooks.github_secrets
    lines.append(
        "webhooks: "
        + (f"github ({len(github)} secret{'s' if len(github) > 1 else ''})" if github else "none")
    )
    smtp = settings.mail.smtp
    lines.append(
        f"mail: from {settings.mail_sender}, "
        + (smtp.describe() if smtp else f"written to {settings.data_dir / 'mail'} (no SMTP server)")
    )
    analytics = settings.analytics
    experiments = ", ".join(f"{e.name} (default {e.default})" for e in analytics.experiments)
    lines.append(
        "analytics: "
        + (
            f"PostHog at {_where(analytics.posthog_host)}, consenting people only, flags "
            + ("evaluated here" if analytics.posthog_secret_key else "off (no secret key)")
            if analytics.enabled
            else "none sent"
        )
        + f"; experiments: {experiments or 'none'}"
    )
    log_format = (
        settings.server.log_format.value
        if settings.server.log_format
        else "console on a terminal, else json"
    )
    lines.append(f"logs: {settings.server.log_level}, {log_format}, on stderr")
    return lines
