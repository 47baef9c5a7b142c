from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from application.ports.clock import Clock
from application.ports.token_signer import CredentialRejectedError, TokenSigner
from domain.git.providers import ProviderKind
from domain.identity.entities import UserId

__all__ = (
    "RUNTIME_AUDIENCE",
    "RuntimeCredentialTtl",
    "RuntimeGitCredential",
    "RuntimeGitCredentials",
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


class RuntimeGitCredentials:
    """Signs short-lived grants naming a user and a provider, for the code that starts or
    renews an agent runtime's git access: the runtime exchanges one at
    ``GET /api/runtime/git-token`` for the current provider token. No long-lived token ever
    reaches a sandbox."""

    def __init__(self, signer: TokenSigner, clock: Clock, ttl: RuntimeCredentialTtl) -> None:
        self._signer = signer
        self._clock = clock
        self._ttl = ttl.value

    def issue(self, user_id: UserId, provider: ProviderKind) -> RuntimeGitCredential:
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
