import copy

from application.ports.repository_hooks import RepositoryHookStore
from domain.git.providers import ProviderKind
from domain.organizations.entities import OrgId
from domain.resolver.entities import RepositoryHook
from tests.fakes.job_queue import RowLocks
from tests.fakes.store import FakeStore

__all__ = ("FakeRepositoryHookStore",)


def _key(hook: RepositoryHook) -> tuple[ProviderKind, str, str]:
    return hook.provider, hook.web_url, hook.repository.lower()


class FakeRepositoryHookStore(RepositoryHookStore):
    """Hooks over the ``FakeStore``; one repository another open transaction enabled is waited
    for, as the unique constraint makes SQL wait."""

    def __init__(self, store: FakeStore, locks: RowLocks) -> None:
        self._store = store
        self._locks = locks

    @property
    def _rows(self) -> dict[str, RepositoryHook]:
        return self._store.live.repository_hooks

    async def add(self, hook: RepositoryHook) -> bool:
        await self._locks.hold(("repository-hook", _key(hook)))
        if hook.id_ in self._rows or any(_key(h) == _key(hook) for h in self._rows.values()):
            return False
        self._rows[hook.id_] = copy.deepcopy(hook)
        return True

    async def save(self, hook: RepositoryHook) -> None:
        kept = self._rows.get(hook.id_)
        if kept is not None:
            kept.hook_id = hook.hook_id
            kept.updated_at = hook.updated_at

    async def get(self, hook_id: str) -> RepositoryHook | None:
        kept = self._rows.get(hook_id)
        return None if kept is None else copy.deepcopy(kept)

    async def for_repository(self, provider: ProviderKind, repository: str) -> list[RepositoryHook]:
        key = repository.lower()
        parents = {"/".join(key.split("/")[:n]) for n in range(1, key.count("/") + 1)}
        found = [
            h
            for h in self._rows.values()
            if h.provider is provider
            and (h.repository.lower() == key or (h.group and h.repository.lower() in parents))
        ]
        ordered = sorted(found, key=lambda h: (h.web_url, h.repository.lower()))
        return [copy.deepcopy(h) for h in ordered]

    async def list_for_org(self, org_id: OrgId) -> list[RepositoryHook]:
        found = [h for h in self._rows.values() if h.org_id == org_id]
        ordered = sorted(found, key=lambda h: (h.provider.value, h.repository.lower()))
        return [copy.deepcopy(h) for h in ordered]

    async def delete(self, hook_id: str) -> bool:
        return self._rows.pop(hook_id, None) is not None
