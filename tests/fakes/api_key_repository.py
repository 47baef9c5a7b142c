from dataclasses import replace
from datetime import datetime

from application.ports.api_key_repository import ApiKeyRepository
from domain.identity.api_keys import ApiKey, ApiKeyId
from domain.identity.entities import UserId
from domain.organizations.entities import OrgId
from domain.shared.errors import ConflictError
from tests.fakes.store import FakeStore


class FakeApiKeyRepository(ApiKeyRepository):
    def __init__(self, store: FakeStore) -> None:
        self._store = store

    async def add(self, key: ApiKey) -> None:
        keys = self._store.live.api_keys
        if key.id_ in keys or any(k.lookup == key.lookup for k in keys.values()):
            raise ConflictError("duplicate API key")
        keys[key.id_] = key

    async def get_by_lookup(self, lookup: str) -> ApiKey | None:
        return next((k for k in self._store.live.api_keys.values() if k.lookup == lookup), None)

    async def get_for_user(self, key_id: ApiKeyId, user_id: UserId) -> ApiKey | None:
        key = self._store.live.api_keys.get(key_id)
        return key if key is not None and key.user_id == user_id else None

    async def list_for_user(self, user_id: UserId, org_id: OrgId) -> list[ApiKey]:
        mine = [
            k
            for k in self._store.live.api_keys.values()
            if (k.user_id, k.org_id) == (user_id, org_id)
        ]
        return sorted(mine, key=lambda k: (k.created_at, k.id_), reverse=True)

    async def save(self, key: ApiKey) -> None:
        stored = self._store.live.api_keys.get(key.id_)
        if stored is None:
            raise LookupError(f"API key {key.id_} was never added")
        self._store.live.api_keys[key.id_] = replace(
            stored, revoked_at=key.revoked_at, last_used_at=key.last_used_at
        )

    async def revoke_all(self, user_id: UserId, org_id: OrgId, now: datetime) -> int:
        keys = self._store.live.api_keys
        live = [
            k
            for k in keys.values()
            if (k.user_id, k.org_id) == (user_id, org_id) and k.revoked_at is None
        ]
        for key in live:
            keys[key.id_] = key.revoked(now)
        return len(live)
