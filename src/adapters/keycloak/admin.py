import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, quote

import httpx

from application.errors import DependencyUnavailableError
from application.ports.identity_admin import BrokeredToken, IdentityAdmin
from domain.identity.errors import EmailTakenError
from domain.identity.value_objects import EmailAddress

__all__ = ("KeycloakIdentityAdmin", "KeycloakSettings")

_TOKEN_MARGIN_S = 30.0


@dataclass(frozen=True, slots=True, kw_only=True)
class KeycloakSettings:
    base_url: str
    """Keycloak's root, ``https://sso.example.com``; the issuer is ``<root>/realms/<realm>``."""
    realm: str
    client_id: str
    client_secret: str
    verify_redirect_uri: str
    timeout_s: float = 10.0


class KeycloakIdentityAdmin(IdentityAdmin):
    """Keycloak's admin REST API (through the client's service account, ``manage-users``) and
    its broker token endpoint (with the signed-in user's own access token)."""

    def __init__(self, settings: KeycloakSettings, transport: httpx.AsyncBaseTransport) -> None:
        self._settings = settings
        self._http = httpx.AsyncClient(transport=transport, timeout=settings.timeout_s)
        """Shares the app's transport and is never closed here: the transport's owner closes
        it, and closing a client would close the pool under calls still in flight."""
        self._admin_token: tuple[str, float] | None = None
        self._lock = asyncio.Lock()
        root = settings.base_url.rstrip("/")
        realm = quote(settings.realm, safe="")
        self._realm_url = f"{root}/realms/{realm}"
        self._admin_url = f"{root}/admin/realms/{realm}"

    async def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            return await self._http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise DependencyUnavailableError("Keycloak cannot be reached.") from exc

    async def _token(self) -> str:
        async with self._lock:
            if self._admin_token and self._admin_token[1] > time.monotonic():
                return self._admin_token[0]
            response = await self._send(
                "POST",
                f"{self._realm_url}/protocol/openid-connect/token",
                data={"grant_type": "client_credentials"},
                auth=(self._settings.client_id, self._settings.client_secret),
            )
            if response.status_code != 200:
                raise DependencyUnavailableError(
                    f"Keycloak refused the service account ({response.status_code})."
                )
            body = response.json()
            lifetime = float(body.get("expires_in", 60))
            expires = time.monotonic() + max(1.0, lifetime - _TOKEN_MARGIN_S)
            self._admin_token = (str(body["access_token"]), expires)
            return self._admin_token[0]

    async def _admin(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        for attempt in (1, 2):
            headers = {"Authorization": f"Bearer {await self._token()}"}
            response = await self._send(
                method, f"{self._admin_url}{path}", headers=headers, **kwargs
            )
            if response.status_code == 401 and attempt == 1:
                self._admin_token = None
                continue
            if response.status_code == 409:
                raise EmailTakenError
            if response.status_code >= 400:
                raise DependencyUnavailableError(
                    f"Keycloak answered {response.status_code} to {method} {path}."
                )
            return response
        raise DependencyUnavailableError("Keycloak refused the service account.")

    async def change_email(self, subject: str, email: EmailAddress) -> None:
        """Read the whole user and write it back changed: Keycloak's PUT replaces the profile
        (names, attributes) with what it is sent."""
        user = f"/users/{quote(subject, safe='')}"
        representation = (await self._admin("GET", user)).json()
        if not isinstance(representation, dict):
            raise DependencyUnavailableError("Keycloak sent an unreadable user.")
        representation.update({"email": email.value, "emailVerified": False})
        await self._admin("PUT", user, json=representation)
        await self.send_verification_email(subject)

    async def send_verification_email(self, subject: str) -> None:
        await self._admin(
            "PUT",
            f"/users/{quote(subject, safe='')}/send-verify-email",
            params={
                "client_id": self._settings.client_id,
                "redirect_uri": self._settings.verify_redirect_uri,
            },
        )

    async def brokered_token(
        self, *, access_token: str, identity_provider: str
    ) -> BrokeredToken | None:
        response = await self._send(
            "GET",
            f"{self._realm_url}/broker/{quote(identity_provider, safe='')}/token",
            headers={"Authorization": f"Bearer {access_token}"},
        )
        if response.status_code in {400, 404}:
            return None
        if response.status_code != 200:
            raise DependencyUnavailableError(f"Keycloak's broker answered {response.status_code}.")
        try:
            return _parse_brokered(response)
        except (ValueError, AttributeError, TypeError) as exc:
            raise DependencyUnavailableError("Keycloak's broker sent an unreadable token.") from exc


def _parse_brokered(response: httpx.Response) -> BrokeredToken | None:
    """Keycloak returns what the upstream sent: JSON (GitLab, OIDC) or a form (GitHub)."""
    if response.headers.get("content-type", "").startswith("application/json"):
        body: dict[str, Any] = response.json()
        if not isinstance(body, dict):
            raise TypeError("the broker's JSON is not an object")
    else:
        body = {k: v[0] for k, v in parse_qs(response.text).items()}
    token = body.get("access_token")
    if not isinstance(token, str) or not token:
        return None
    expires_in = body.get("expires_in")
    try:
        seconds = float(expires_in) if expires_in not in (None, "") else None
    except (TypeError, ValueError):
        seconds = None
    refresh = body.get("refresh_token")
    scopes = body.get("scope")
    return BrokeredToken(
        access_token=token,
        refresh_token=refresh if isinstance(refresh, str) and refresh else None,
        expires_at=datetime.now(UTC) + timedelta(seconds=seconds) if seconds else None,
        scopes=scopes if isinstance(scopes, str) else None,
    )
