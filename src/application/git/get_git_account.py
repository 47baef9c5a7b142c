from application.git.browse_repositories import OnGitProvider
from domain.git.entities import GitAccount
from domain.git.providers import ProviderKind
from domain.identity.principals import Principal

__all__ = ("GetGitAccount",)


class GetGitAccount(OnGitProvider):
    """The caller's account as the git provider knows it, through a token fresh for the call."""

    async def execute(self, actor: Principal, provider: ProviderKind) -> GitAccount:
        git = await self._open(actor, provider)
        return await git.get_account()
