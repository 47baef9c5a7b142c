from dataclasses import replace

from application.ports.secret_store import SecretStore
from domain.identity.entities import UserId
from domain.secrets.entities import CustomSecret, SecretName
from domain.secrets.errors import SecretNameTakenError
from tests.fakes.store import FakeStore


class FakeSecretStore(SecretStore):
    """Secrets in the FakeStore's ``secrets`` table, unsealed (what use-case tests inspect);
    the contract suite holds the SQL adapter to sealing."""

    def __init__(self, store: FakeStore) -> None:
        self._store = store

    async def add(self, secret: CustomSecret) -> None:
        secrets = self._store.live.secrets
        if secret.user_id not in self._store.live.users:
            raise LookupError(f"user {secret.user_id} does not exist")
        if secret.id_ in secrets or any(
            (s.user_id, s.name) == (secret.user_id, secret.name) for s in secrets.values()
        ):
            raise SecretNameTakenError
        secrets[secret.id_] = secret

    async def get(self, user_id: UserId, name: SecretName) -> CustomSecret | None:
        return next(
            (
                s
                for s in self._store.live.secrets.values()
                if (s.user_id, s.name) == (user_id, name)
            ),
            None,
        )

    async def list_for(self, user_id: UserId) -> list[CustomSecret]:
        mine = [s for s in self._store.live.secrets.values() if s.user_id == user_id]
        return sorted(mine, key=lambda s: s.name.value)

    async def save(self, secret: CustomSecret) -> None:
        stored = self._store.live.secrets.get(secret.id_)
        if stored is None or stored.user_id != secret.user_id:
            raise LookupError(f"secret {secret.id_} was never added")
        self._store.live.secrets[secret.id_] = replace(
            stored,
            value=secret.value,
            description=secret.description,
            updated_at=secret.updated_at,
        )

    async def delete(self, user_id: UserId, name: SecretName) -> bool:
        found = await self.get(user_id, name)
        if found is None:
            return False
        del self._store.live.secrets[found.id_]
        return True
