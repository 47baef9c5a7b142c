"""Who is calling: the credentials each binding accepts, sign-in through an OpenID Connect
issuer, Keycloak's extras, and the terms people must accept."""

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
from dishka import AsyncContainer, Provider, Scope, alias, decorate, provide

from adapters.keycloak import KeycloakIdentityAdmin, KeycloakSettings
from adapters.oidc import OidcIdentityProvider, OidcSettings
from application.identity.access_gates import AccessPolicy
from application.identity.api_key_authenticator import ApiKeyAuthenticator
from application.identity.authenticator import Authenticator
from application.identity.brokered_tokens import (
    BrokeredTokenCapture,
    IgnoreBrokeredTokens,
    KeepBrokeredTokens,
)
from application.identity.principal_cache import (
    EvictingRevocations,
    PrincipalCache,
    PrincipalCacheFollower,
)
from application.identity.session_authenticator import SessionAuthenticator
from application.identity.sign_in_policy import SignInPolicy
from application.identity.signed_in_authenticator import SignedInAuthenticator
from application.ports.access_revocations import AccessRevocations
from application.ports.clock import Clock
from application.ports.identity_admin import IdentityAdmin
from application.ports.identity_provider import IdentityProvider
from entrypoints.settings import Binding, Settings, is_loopback_http

__all__ = (
    "AccessProvider",
    "ClusteredAuthProvider",
    "KeycloakProvider",
    "OidcProvider",
    "PlainOidcProvider",
    "PrincipalCacheProvider",
    "start_principal_cache",
)


class AccessProvider(Provider):
    """What a person must do before using the API, in every binding."""

    @provide(scope=Scope.APP)
    def access_policy(self, settings: Settings) -> AccessPolicy:
        return AccessPolicy(
            terms_version=settings.identity.terms_version,
            terms_url=settings.identity.terms_url,
            verification_resend=settings.identity.sign_in_enabled,
        )


class ClusteredAuthProvider(Provider):
    """Clustered binding without sign-in configured: API keys are the only credential."""

    authenticator = alias(source=ApiKeyAuthenticator, provides=Authenticator)


class OidcProvider(Provider):
    """Sign-in through an OpenID Connect issuer (Keycloak): sessions or API keys."""

    @provide(scope=Scope.APP)
    async def transport(self) -> AsyncIterator[httpx.AsyncBaseTransport]:
        transport = httpx.AsyncHTTPTransport(retries=1)
        yield transport
        await transport.aclose()

    @provide(scope=Scope.APP)
    def identity_provider(
        self, settings: Settings, transport: httpx.AsyncBaseTransport, clock: Clock
    ) -> IdentityProvider:
        identity = settings.identity
        assert identity.oidc_issuer is not None
        assert identity.oidc_client_id is not None
        assert identity.oidc_client_secret is not None
        return OidcIdentityProvider(
            OidcSettings(
                issuer=identity.oidc_issuer,
                client_id=identity.oidc_client_id,
                client_secret=identity.oidc_client_secret,
                scopes=identity.oidc_scopes,
                timeout_s=max(settings.dependency_timeout_s, 5.0),
            ),
            transport,
            clock,
        )

    @provide(scope=Scope.APP)
    def policy(self, settings: Settings) -> SignInPolicy:
        public = settings.server.effective_public_url
        return SignInPolicy(
            redirect_uri=f"{public}/api/auth/callback",
            post_logout_redirect_uri=f"{public}/",
            session_max_age=timedelta(seconds=settings.identity.session_max_age_s),
            refresh_margin=timedelta(seconds=settings.identity.token_refresh_margin_s),
            secure_cookies=not is_loopback_http(public),
            starts_per_client=settings.identity.sign_in_starts_per_client,
        )

    session_authenticator = provide(SessionAuthenticator, scope=Scope.REQUEST)
    authenticator = provide(SignedInAuthenticator, provides=Authenticator, scope=Scope.REQUEST)


class KeycloakProvider(Provider):
    """Keycloak's extras: account administration and brokered upstream tokens."""

    @provide(scope=Scope.APP)
    def admin(self, settings: Settings, transport: httpx.AsyncBaseTransport) -> IdentityAdmin:
        identity = settings.identity
        assert identity.keycloak_url is not None
        assert identity.keycloak_realm is not None
        assert identity.oidc_client_id is not None
        assert identity.oidc_client_secret is not None
        return KeycloakIdentityAdmin(
            KeycloakSettings(
                base_url=identity.keycloak_url,
                realm=identity.keycloak_realm,
                client_id=identity.oidc_client_id,
                client_secret=identity.oidc_client_secret,
                verify_redirect_uri=f"{settings.server.effective_public_url}/",
                timeout_s=max(settings.dependency_timeout_s, 5.0),
            ),
            transport,
        )

    brokered = provide(KeepBrokeredTokens, provides=BrokeredTokenCapture, scope=Scope.REQUEST)


class PlainOidcProvider(Provider):
    """A standard OpenID Connect issuer: nothing brokered to keep."""

    brokered = provide(IgnoreBrokeredTokens, provides=BrokeredTokenCapture, scope=Scope.APP)


class PrincipalCacheProvider(Provider):
    """What a credential proved, reused for a few seconds and dropped on every server when
    access is revoked or changes. It decorates the binding's ``AccessRevocations``, so it comes
    after the binding's providers."""

    @provide(scope=Scope.APP)
    def principal_cache(self, settings: Settings, clock: Clock) -> PrincipalCache:
        # Embedded: the CLI revokes keys from a process of its own, which no announcement
        # leaves, so the server reads every credential.
        embedded = settings.binding is Binding.EMBEDDED
        seconds = 0 if embedded else settings.identity.credential_cache_s
        return PrincipalCache(clock, timedelta(seconds=seconds))

    @decorate
    def evicting(self, revocations: AccessRevocations, cache: PrincipalCache) -> AccessRevocations:
        return EvictingRevocations(revocations, cache)

    @provide(scope=Scope.APP)
    async def follower(
        self, cache: PrincipalCache, revocations: AccessRevocations
    ) -> AsyncIterator[PrincipalCacheFollower]:
        follower = PrincipalCacheFollower(cache, revocations)
        follower.start()
        yield follower
        await follower.aclose()


async def start_principal_cache(container: AsyncContainer) -> None:
    """Start hearing revocations, which the principal cache needs before it is used."""
    await container.get(PrincipalCacheFollower)
