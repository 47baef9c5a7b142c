from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import parse_qs

import httpx
import msgspec

from adapters.git_providers.http import provider_name
from adapters.git_providers.urls import CloudUrls
from application.errors import DependencyUnavailableError
from application.ports.clock import Clock
from application.ports.git_provider import ProviderOAuth, RefreshedToken
from domain.git.errors import ProviderReconnectRequiredError
from domain.git.providers import GitHost, ProviderKind

__all__ = ("HttpxProviderOAuth", "OAuthApp")

_REFUSALS = frozenset(
    {"bad_refresh_token", "invalid_grant", "invalid_token", "expired_token", "access_denied"}
)
"""OAuth error codes that mean the refresh token is no good: only reconnecting helps. Any other
(``incorrect_client_credentials``, ``invalid_client``, ``unauthorized_client``) is the server's
own misconfiguration, an outage from the user's point of view."""


_NO_AUTH = httpx.Auth()
"""Sends requests unchanged: the client credentials go in the form."""


@dataclass(frozen=True, slots=True)
class OAuthApp:
    """The server's OAuth app (client) at one host."""

    client_id: str
    client_secret: str = field(repr=False)


class _TokenAnswer(msgspec.Struct, frozen=True, kw_only=True):
    access_token: str | None = None
    refresh_token: str | None = None
    expires_in: int | float | str | None = None
    refresh_token_expires_in: int | float | str | None = None
    scope: str | None = None
    scopes: str | None = None
    error: str | None = None


def _seconds(raw: int | float | str | None) -> float | None:
    if raw is None or raw == "":
        return None
    try:
        seconds = float(raw)
    except ValueError:
        return None
    return seconds if seconds > 0 else None


class HttpxProviderOAuth(ProviderOAuth):
    """Refreshes provider tokens at each host's token endpoint with the server's OAuth apps:
    GitHub ``{web}/login/oauth/access_token`` (which answers errors with 200 and an ``error``
    field), GitLab ``{web}/oauth/token``, Bitbucket ``{web}/site/oauth2/access_token`` (client
    authenticated with HTTP Basic). ``apps`` holds credentials per host: ``GitHost(kind)`` for a
    cloud, ``GitHost(kind, base_url)`` for a self-managed one."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        cloud_urls: CloudUrls | None,
        apps: Mapping[GitHost, OAuthApp],
        clock: Clock,
    ) -> None:
        self._client = client
        self._urls = cloud_urls or CloudUrls()
        self._apps = dict(apps)
        self._clock = clock

    def can_refresh(self, host: GitHost) -> bool:
        return host in self._apps

    async def refresh(self, host: GitHost, refresh_token: str) -> RefreshedToken:
        app = self._apps.get(host)
        if app is None:
            raise ProviderReconnectRequiredError(
                host.kind, "this server has no OAuth app to refresh it with"
            )
        name = provider_name(host)
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        auth: httpx.Auth = _NO_AUTH
        if host.kind is ProviderKind.BITBUCKET:
            auth = httpx.BasicAuth(app.client_id, app.client_secret)
        else:
            form |= {"client_id": app.client_id, "client_secret": app.client_secret}
        try:
            response = await self._client.post(
                self._urls.token_url(host),
                data=form,
                auth=auth,
                headers={"Accept": "application/json"},
            )
        except httpx.TimeoutException:
            raise DependencyUnavailableError(f"{name} did not answer in time.") from None
        except httpx.HTTPError:
            raise DependencyUnavailableError(f"{name} cannot be reached.") from None
        return self._read(host, name, response)

    def _read(self, host: GitHost, name: str, response: httpx.Response) -> RefreshedToken:
        status = response.status_code
        if status == 429 or status >= 500:
            raise DependencyUnavailableError(f"{name} failed to refresh the token ({status}).")
        answer = _decode(response)
        if answer is None:
            raise DependencyUnavailableError(f"{name} sent an unreadable token answer.")
        if answer.error is not None or status != 200 or not answer.access_token:
            if answer.error in _REFUSALS:
                raise ProviderReconnectRequiredError(host.kind, "the refresh token was refused")
            raise DependencyUnavailableError(
                f"{name} refused the server's OAuth app ({answer.error or status})."
            )
        now: datetime = self._clock.now()
        lifetime = _seconds(answer.expires_in)
        refresh_lifetime = _seconds(answer.refresh_token_expires_in)
        scopes = answer.scope if answer.scope is not None else answer.scopes
        return RefreshedToken(
            access_token=answer.access_token,
            refresh_token=answer.refresh_token or None,
            expires_at=None if lifetime is None else now + timedelta(seconds=lifetime),
            refresh_expires_at=(
                None if refresh_lifetime is None else now + timedelta(seconds=refresh_lifetime)
            ),
            scopes=scopes or None,
        )


def _decode(response: httpx.Response) -> _TokenAnswer | None:
    """JSON, or the form GitHub sends when it ignores ``Accept``."""
    if response.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        fields = {k: v[0] for k, v in parse_qs(response.text).items()}
        try:
            return msgspec.convert(fields, _TokenAnswer)
        except msgspec.ValidationError:
            return None
    try:
        return msgspec.json.decode(response.content, type=_TokenAnswer)
    except msgspec.DecodeError:
        return None
