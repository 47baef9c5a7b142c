from application.ports.settings_store import SettingsStore
from domain.identity.entities import UserId
from domain.organizations.entities import OrgId
from domain.settings.entities import OrgSettings, UserSettings
from tests.fakes.store import FakeStore


class FakeSettingsStore(SettingsStore):
    """Settings in the FakeStore's ``user_settings`` and ``org_settings`` tables, unsealed
    (what use-case tests inspect); the contract suite holds the SQL adapter to sealing."""

    def __init__(self, store: FakeStore) -> None:
        self._store = store

    async def get_user(self, user_id: UserId) -> UserSettings | None:
        return self._store.live.user_settings.get(user_id)

    async def put_user(self, settings: UserSettings) -> None:
        if settings.updated_at is None:
            raise ValueError("stored settings have an update time")
        if settings.user_id not in self._store.live.users:
            raise LookupError(f"user {settings.user_id} does not exist")
        self._store.live.user_settings[settings.user_id] = settings

    async def get_org(self, org_id: OrgId) -> OrgSettings | None:
        return self._store.live.org_settings.get(org_id)

    async def put_org(self, settings: OrgSettings) -> None:
        if settings.updated_at is None:
            raise ValueError("stored settings have an update time")
        if settings.org_id not in self._store.live.orgs:
            raise LookupError(f"organization {settings.org_id} does not exist")
        self._store.live.org_settings[settings.org_id] = settings
