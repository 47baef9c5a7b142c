from application.git.get_provider_token import GetProviderToken
from application.ports.authenticator import Principal
from domain.git.entities import GitAccount
from domain.git.providers import ProviderKind
from domain.ports.git_provider import GitProviders

__all__ = ("GetGitAccount",)


class GetGitAccount:
    """The caller's account as the git provider knows it, through a token fresh for the call."""

    def __init__(self, tokens: GetProviderToken, providers: GitProviders) -> None:
        self._tokens = tokens
        self._providers = providers

    async def execute(self, actor: Principal, provider: ProviderKind) -> GitAccount:
        token = await self._tokens.execute(actor.user.id_, provider)
        return await self._providers.open(token.host, token.access_token).get_account()
