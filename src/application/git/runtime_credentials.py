from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from application.git.get_provider_token import GetProviderToken
from application.ports.clock import Clock
from application.ports.token_signer import CredentialRejectedError, TokenSigner
from domain.git.entities import ProviderToken
from domain.git.providers import ProviderKind
from domain.identity.entities import UserId

__all__ = (
    "RUNTIME_AUDIENCE",
    "ExchangeRuntimeGitCredential",
    "IssueRuntimeGitCredential",
    "RuntimeCredentialTtl",
    "RuntimeGitCredential",
    "RuntimeGitGrant",
    "read_runtime_grant",
)

RUNTIME_AUDIENCE = "maestrist:runtime:git-token"


@dataclass(frozen=True, slots=True)
class RuntimeCredentialTtl:
    """How long a runtime's git credential stays valid."""

    value: timedelta


@dataclass(frozen=True, slots=True, kw_only=True)
class RuntimeGitCredential:
    """What a sandbox is handed instead of a provider token: a signed grant, valid minutes."""

    token: str
    expires_at: datetime

    def __repr__(self) -> str:
        return f"RuntimeGitCredential(expires_at={self.expires_at!r}, ...)"


@dataclass(frozen=True, slots=True, kw_only=True)
class RuntimeGitGrant:
    """Who a valid credential speaks for."""

    user_id: UserId
    provider: ProviderKind


class IssueRuntimeGitCredential:
    """Sign a short-lived grant naming the user and the provider, for the agent runtime to
    exchange at ``GET /api/runtime/git-token`` for the current provider token. No long-lived
    token ever reaches a sandbox."""

    def __init__(self, signer: TokenSigner, clock: Clock, ttl: RuntimeCredentialTtl) -> None:
        self._signer = signer
        self._clock = clock
        self._ttl = ttl.value

    def execute(self, user_id: UserId, provider: ProviderKind) -> RuntimeGitCredential:
        now = self._clock.now()
        expires_at = now + self._ttl
        token = self._signer.sign(
            {"sub": str(user_id), "provider": provider.value},
            audience=RUNTIME_AUDIENCE,
            issued_at=now,
            expires_at=expires_at,
        )
        return RuntimeGitCredential(token=token, expires_at=expires_at)


def read_runtime_grant(signer: TokenSigner, token: str, now: datetime) -> RuntimeGitGrant:
    """The grant a credential carries, or ``CredentialRejectedError``."""
    claims = signer.verify(token, audience=RUNTIME_AUDIENCE, now=now)
    try:
        return RuntimeGitGrant(
            user_id=UserId(UUID(claims["sub"])), provider=ProviderKind(claims["provider"])
        )
    except (KeyError, ValueError) as exc:
        raise CredentialRejectedError from exc


class ExchangeRuntimeGitCredential:
    """What the agent runtime calls with the credential it was handed: the user's current
    token for the named provider, refreshed first if it is about to expire. The credential is
    the only authentication: a forged, altered or expired one is refused."""

    def __init__(self, signer: TokenSigner, clock: Clock, tokens: GetProviderToken) -> None:
        self._signer = signer
        self._clock = clock
        self._tokens = tokens

    async def execute(self, credential: str) -> ProviderToken:
        grant = read_runtime_grant(self._signer, credential, self._clock.now())
        return await self._tokens.execute(grant.user_id, grant.provider)
