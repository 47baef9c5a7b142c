from dataclasses import replace
from datetime import datetime

from application.ports.app_installations import AppInstallationStore
from domain.git.providers import ProviderKind
from domain.organizations.entities import OrgId
from domain.resolver.entities import AppInstallation, InstallationToken
from tests.fakes.job_queue import RowLocks
from tests.fakes.store import FakeStore

__all__ = ("FakeAppInstallationStore",)


class FakeAppInstallationStore(AppInstallationStore):
    """Installations over the ``FakeStore``; a row another open transaction changed is waited
    for, as SQL's row lock makes an ``UPDATE`` wait."""

    def __init__(self, store: FakeStore, locks: RowLocks) -> None:
        self._store = store
        self._locks = locks

    @property
    def _rows(self) -> dict[tuple[ProviderKind, str], AppInstallation]:
        return self._store.live.app_installations

    async def put(self, installation: AppInstallation) -> None:
        key = (installation.provider, installation.installation_id)
        await self._locks.hold(("installation", key))
        kept = self._rows.get(key)
        self._rows[key] = replace(installation, token=None if kept is None else kept.token)

    async def get(self, provider: ProviderKind, installation_id: str) -> AppInstallation | None:
        return self._rows.get((provider, installation_id))

    async def delete(self, provider: ProviderKind, installation_id: str) -> bool:
        return self._rows.pop((provider, installation_id), None) is not None

    async def list_for_org(self, org_id: OrgId) -> list[AppInstallation]:
        return sorted(
            (i for i in self._rows.values() if i.org_id == org_id),
            key=lambda i: (i.provider.value, i.account_login),
        )

    async def store_token(
        self,
        provider: ProviderKind,
        installation_id: str,
        token: InstallationToken,
        *,
        replacing: datetime | None,
    ) -> bool:
        key = (provider, installation_id)
        await self._locks.hold(("installation", key))
        kept = self._rows.get(key)
        current = None if kept is None or kept.token is None else kept.token.expires_at
        if kept is None or current != replacing:
            return False
        self._rows[key] = replace(kept, token=token)
        return True
