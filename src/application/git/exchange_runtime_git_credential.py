from dataclasses import dataclass

from application.git.provider_tokens import ProviderTokens
from application.git.runtime_credentials import read_runtime_grant
from application.ports.clock import Clock
from application.ports.token_signer import TokenSigner
from domain.git.entities import ProviderToken

__all__ = (
    "ExchangeRuntimeGitCredential",
    "ExchangeRuntimeGitCredentialRequest",
    "ExchangeRuntimeGitCredentialResult",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ExchangeRuntimeGitCredentialRequest:
    credential: str

    def __repr__(self) -> str:
        return "ExchangeRuntimeGitCredentialRequest(...)"


@dataclass(frozen=True, slots=True, kw_only=True)
class ExchangeRuntimeGitCredentialResult:
    token: ProviderToken


class ExchangeRuntimeGitCredential:
    """What the agent runtime calls with the credential it was handed: the user's current
    token for the named provider, refreshed first if it is about to expire. The credential is
    the only authentication: a forged, altered or expired one is refused."""

    def __init__(self, signer: TokenSigner, clock: Clock, tokens: ProviderTokens) -> None:
        self._signer = signer
        self._clock = clock
        self._tokens = tokens

    async def execute(
        self, request: ExchangeRuntimeGitCredentialRequest
    ) -> ExchangeRuntimeGitCredentialResult:
        grant = read_runtime_grant(self._signer, request.credential, self._clock.now())
        token = await self._tokens.fresh(grant.user_id, grant.provider)
        return ExchangeRuntimeGitCredentialResult(token=token)
