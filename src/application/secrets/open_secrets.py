from collections.abc import Mapping

from application.ports.secret_store import SecretStore
from domain.identity.entities import UserId

__all__ = ("OpenSecrets",)


class OpenSecrets:
    """Every custom secret of a user, opened, as the environment the runtime sets; for the code
    that starts conversations. No HTTP route answers it."""

    def __init__(self, store: SecretStore) -> None:
        self._store = store

    async def execute(self, user_id: UserId) -> Mapping[str, str]:
        return {s.name.value: s.value.value for s in await self._store.list_for(user_id)}
