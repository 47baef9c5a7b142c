from application.ports.secret_store import SecretStore
from domain.identity.principals import Principal
from domain.secrets.entities import CustomSecret

__all__ = ("ListSecrets",)


class ListSecrets:
    """The caller's secrets by name; callers show names, descriptions and times only."""

    def __init__(self, store: SecretStore) -> None:
        self._store = store

    async def execute(self, actor: Principal) -> list[CustomSecret]:
        return await self._store.list_for(actor.user.id_)
