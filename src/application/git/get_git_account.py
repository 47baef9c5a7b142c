from dataclasses import dataclass

from application.git.provider_tokens import ProviderTokens
from application.ports.git_provider import GitProviders
from domain.git.entities import GitAccount
from domain.git.providers import ProviderKind
from domain.identity.principals import Principal

__all__ = ("GetGitAccount", "GetGitAccountRequest", "GetGitAccountResult")


@dataclass(frozen=True, slots=True, kw_only=True)
class GetGitAccountRequest:
    actor: Principal
    provider: ProviderKind


@dataclass(frozen=True, slots=True, kw_only=True)
class GetGitAccountResult:
    account: GitAccount


class GetGitAccount:
    """The caller's account as the git provider knows it, through a token fresh for the call."""

    def __init__(self, tokens: ProviderTokens, providers: GitProviders) -> None:
        self._tokens = tokens
        self._providers = providers

    async def execute(self, request: GetGitAccountRequest) -> GetGitAccountResult:
        token = await self._tokens.fresh(request.actor.user.id_, request.provider)
        git = self._providers.open(token.host, token.access_token)
        return GetGitAccountResult(account=await git.get_account())
