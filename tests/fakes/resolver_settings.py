from application.ports.resolver_settings import ResolverSettingsStore
from domain.organizations.entities import OrgId
from domain.resolver.entities import ResolverSettings
from tests.fakes.store import FakeStore

__all__ = ("FakeResolverSettingsStore",)


class FakeResolverSettingsStore(ResolverSettingsStore):
    def __init__(self, store: FakeStore) -> None:
        self._store = store

    async def get(self, org_id: OrgId) -> ResolverSettings | None:
        return self._store.live.resolver_settings.get(org_id)

    async def put(self, settings: ResolverSettings) -> None:
        self._store.live.resolver_settings[settings.org_id] = settings
