from application.ports.provider_token_store import ProviderTokenStore
from domain.git.entities import ProviderToken
from domain.git.providers import ProviderKind
from domain.identity.entities import UserId
from tests.fakes.store import FakeStore


class FakeProviderTokenStore(ProviderTokenStore):
    """Provider tokens in the FakeStore's ``provider_tokens`` table, one per user and provider.

    ``reads`` counts the ``get`` calls, so a test can tell a fresh read from none.
    """

    def __init__(self, store: FakeStore) -> None:
        self._store = store
        self.reads = 0

    async def put(self, token: ProviderToken) -> None:
        self._store.live.provider_tokens[(token.user_id, token.provider)] = token

    async def get(self, user_id: UserId, provider: ProviderKind) -> ProviderToken | None:
        self.reads += 1
        return self._store.live.provider_tokens.get((user_id, provider))

    async def list_for(self, user_id: UserId) -> list[ProviderToken]:
        mine = [t for (owner, _), t in self._store.live.provider_tokens.items() if owner == user_id]
        return sorted(mine, key=lambda token: token.provider.value)

    async def delete(self, user_id: UserId, provider: ProviderKind) -> bool:
        return self._store.live.provider_tokens.pop((user_id, provider), None) is not None
