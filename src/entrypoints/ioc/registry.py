"""Which providers the binding in ``Settings`` composes."""

from dishka import Provider

from entrypoints.ioc.analytics import AnalyticsProvider
from entrypoints.ioc.application import ApplicationProvider
from entrypoints.ioc.billing import BillingProvider
from entrypoints.ioc.conversations import ConversationsProvider
from entrypoints.ioc.crypto import CryptoProvider
from entrypoints.ioc.embedded import EmbeddedProvider
from entrypoints.ioc.git_providers import GitProvidersProvider
from entrypoints.ioc.http import HttpProvider, RequestContextProvider
from entrypoints.ioc.identity import (
    AccessProvider,
    ClusteredAuthProvider,
    KeycloakProvider,
    OidcProvider,
    PlainOidcProvider,
    PrincipalCacheProvider,
)
from entrypoints.ioc.jobs import JobsProvider
from entrypoints.ioc.mail import MailProvider
from entrypoints.ioc.prometheus import MetricsEndpointProvider, PrometheusProvider
from entrypoints.ioc.rate_limits import RateLimitProvider
from entrypoints.ioc.readiness import ReadinessProvider
from entrypoints.ioc.redis import RedisProvider
from entrypoints.ioc.resolver import ResolverProvider
from entrypoints.ioc.runtime import RuntimeProvider
from entrypoints.ioc.sqlalchemy import SqlaProvider
from entrypoints.ioc.stripe import StripeProvider
from entrypoints.ioc.system import SystemProvider
from entrypoints.ioc.webhooks import WebhooksProvider
from entrypoints.settings import Binding, Settings

__all__ = ("get_providers",)


def get_providers(settings: Settings) -> list[Provider]:
    """The providers of the binding ``settings`` selects."""
    common: list[Provider] = [
        SystemProvider(),
        SqlaProvider(),
        CryptoProvider(),
        GitProvidersProvider(),
        RuntimeProvider(),
        ConversationsProvider(),
        AccessProvider(),
        HttpProvider(),
        RequestContextProvider(),
        RateLimitProvider(),
        ReadinessProvider(),
        ApplicationProvider(),
        JobsProvider(),
        MailProvider(),
        WebhooksProvider(),
        BillingProvider(),
        StripeProvider(),
        ResolverProvider(),
        PrometheusProvider(),
        AnalyticsProvider(),
        *([MetricsEndpointProvider()] if settings.metrics.enabled else []),
    ]
    return [*common, *_binding(settings), PrincipalCacheProvider()]


def _binding(settings: Settings) -> list[Provider]:
    if settings.binding is Binding.EMBEDDED:
        return [EmbeddedProvider()]
    if not settings.identity.sign_in_enabled:
        return [RedisProvider(), ClusteredAuthProvider()]
    extras = KeycloakProvider() if settings.identity.keycloak_enabled else PlainOidcProvider()
    return [RedisProvider(), OidcProvider(), extras]
