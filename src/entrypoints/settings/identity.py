"""Who people are: sign-in through an OpenID Connect issuer, Keycloak's extras, sessions and
the terms people accept."""

from dataclasses import dataclass

from entrypoints.settings.fields import Binding, Section, setting
from entrypoints.settings.parsers import int_in, printable, text, url

__all__ = ("IdentitySettings",)


@dataclass(frozen=True, slots=True, kw_only=True)
class IdentitySettings(Section):
    """Sign-in (clustered only), Keycloak administration and the terms of service."""

    oidc_issuer: str | None = setting(
        "MAESTRIST_OIDC_ISSUER",
        "Clustered only: OpenID Connect issuer URL (a Keycloak realm: "
        "`https://sso.example.com/realms/maestrist`). Setting it turns on sign-in.",
        url("https", "http"),
        default=None,
    )
    oidc_client_id: str | None = setting(
        "MAESTRIST_OIDC_CLIENT_ID", "The server's client id at the issuer.", text, default=None
    )
    oidc_client_secret: str | None = setting(
        "MAESTRIST_OIDC_CLIENT_SECRET",
        "The server's client secret at the issuer.",
        text,
        default=None,
        secret=True,
    )
    oidc_scopes: str = setting(
        "MAESTRIST_OIDC_SCOPES",
        "Scopes asked for at sign-in.",
        text,
        default="openid email profile",
    )
    keycloak_url: str | None = setting(
        "MAESTRIST_KEYCLOAK_URL",
        "Clustered, with sign-in: Keycloak's root URL. Turns on email changes, verification "
        "links and keeping the GitHub/GitLab/Bitbucket token Keycloak brokered at sign-in "
        "(the client's service account needs `manage-users`).",
        url("https", "http"),
        default=None,
    )
    keycloak_realm: str | None = setting(
        "MAESTRIST_KEYCLOAK_REALM",
        "The Keycloak realm, with `MAESTRIST_KEYCLOAK_URL`.",
        text,
        default=None,
    )
    session_max_age_s: int = setting(
        "MAESTRIST_SESSION_MAX_AGE",
        "Seconds a session lasts when the issuer does not say how long its refresh token "
        "lives (Keycloak does, and then that wins).",
        int_in(300, 400 * 24 * 3600),
        default=14 * 24 * 3600,
    )
    token_refresh_margin_s: int = setting(
        "MAESTRIST_TOKEN_REFRESH_MARGIN",
        "Seconds before an access token expires that the server refreshes it.",
        int_in(0, 3600),
        default=30,
    )
    credential_cache_s: int = setting(
        "MAESTRIST_CREDENTIAL_CACHE",
        "Clustered only: seconds a server may reuse, for reads, what an API key or session "
        "cookie proved without reading the database again (0-60; 0: never; the embedded "
        "binding never does, since its CLI revokes keys from a process of its "
        "own). A revocation, or a change of membership or account, drops it at once on every "
        "server (announced through Redis); while Redis is unreachable nothing is reused.",
        int_in(0, 60),
        default=10,
    )
    sign_in_starts_per_client: int = setting(
        "MAESTRIST_SIGN_IN_STARTS_PER_CLIENT",
        "Sign-ins one client address (an IPv6 one by its /64) may start within ten minutes "
        "(1-100000); more answer 429 until the ten minutes end.",
        int_in(1, 100_000),
        default=30,
    )
    terms_version: str | None = setting(
        "MAESTRIST_TERMS_VERSION",
        "Version of the terms of service people must accept before using the API; unset: none.",
        printable(64),
        default=None,
    )
    terms_url: str | None = setting(
        "MAESTRIST_TERMS_URL",
        "Where the terms of service can be read.",
        url("https", "http"),
        default=None,
    )

    @property
    def sign_in_enabled(self) -> bool:
        return self.oidc_issuer is not None

    @property
    def keycloak_enabled(self) -> bool:
        return self.sign_in_enabled and self.keycloak_url is not None

    def problems(self, binding: Binding) -> dict[str, str]:
        if binding is Binding.EMBEDDED:
            return {
                name: "only the clustered binding uses it; set MAESTRIST_BINDING"
                for name, value in (
                    ("MAESTRIST_OIDC_ISSUER", self.oidc_issuer),
                    ("MAESTRIST_KEYCLOAK_URL", self.keycloak_url),
                )
                if value is not None
            }
        if self.oidc_issuer is None:
            return {
                name: "needs MAESTRIST_OIDC_ISSUER"
                for name, value in (
                    ("MAESTRIST_KEYCLOAK_URL", self.keycloak_url),
                    ("MAESTRIST_KEYCLOAK_REALM", self.keycloak_realm),
                )
                if value is not None
            }
        found = {
            name: "required when MAESTRIST_OIDC_ISSUER is set"
            for name, value in (
                ("MAESTRIST_OIDC_CLIENT_ID", self.oidc_client_id),
                ("MAESTRIST_OIDC_CLIENT_SECRET", self.oidc_client_secret),
            )
            if value is None
        }
        if (self.keycloak_url is None) != (self.keycloak_realm is None):
            found["MAESTRIST_KEYCLOAK_REALM"] = "set both MAESTRIST_KEYCLOAK_URL and the realm"
        return found
