from application.git.connections import GitConnection
from application.ports.provider_token_store import ProviderTokenStore
from domain.identity.principals import Principal

__all__ = ("ListGitConnections",)


class ListGitConnections:
    """The caller's connected git providers, by provider; never their tokens."""

    def __init__(self, tokens: ProviderTokenStore) -> None:
        self._tokens = tokens

    async def execute(self, actor: Principal) -> list[GitConnection]:
        return [GitConnection.of(token) for token in await self._tokens.list_for(actor.user.id_)]
