from application.ports.git_identities import GitIdentityStore
from domain.git.providers import ProviderKind
from domain.identity.entities import UserId
from domain.resolver.entities import GitIdentity
from tests.fakes.store import FakeStore

__all__ = ("FakeGitIdentityStore",)


class FakeGitIdentityStore(GitIdentityStore):
    def __init__(self, store: FakeStore) -> None:
        self._store = store

    @property
    def _rows(self) -> dict[tuple[UserId, ProviderKind], GitIdentity]:
        return self._store.live.git_identities

    async def link(self, identity: GitIdentity) -> None:
        for key, kept in list(self._rows.items()):
            if (kept.provider, kept.account_id) == (identity.provider, identity.account_id):
                del self._rows[key]
        self._rows[identity.user_id, identity.provider] = identity

    async def user_of(self, provider: ProviderKind, account_id: str) -> UserId | None:
        return next(
            (
                i.user_id
                for i in self._rows.values()
                if (i.provider, i.account_id) == (provider, account_id)
            ),
            None,
        )

    async def of_user(self, user_id: UserId, provider: ProviderKind) -> GitIdentity | None:
        return self._rows.get((user_id, provider))
