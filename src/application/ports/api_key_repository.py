from abc import abstractmethod
from datetime import datetime
from typing import Protocol

from domain.identity.api_keys import ApiKey, ApiKeyId
from domain.identity.entities import UserId
from domain.organizations.entities import OrgId

__all__ = ("ApiKeyRepository",)


class ApiKeyRepository(Protocol):
    """API keys, found by id within their owner or by the public lookup id of a token.

    Transactional: the unit of work commits.
    """

    @abstractmethod
    async def add(self, key: ApiKey) -> None: ...

    @abstractmethod
    async def get_by_lookup(self, lookup: str) -> ApiKey | None: ...

    @abstractmethod
    async def get_for_user(self, key_id: ApiKeyId, user_id: UserId) -> ApiKey | None:
        """The key if ``user_id`` owns it, else ``None``."""

    @abstractmethod
    async def list_for_user(self, user_id: UserId, org_id: OrgId) -> list[ApiKey]:
        """The keys ``user_id`` made in ``org_id``, newest first, revoked ones included."""

    @abstractmethod
    async def save(self, key: ApiKey) -> None:
        """Store a changed revocation time or last-use time of a key already added."""

    @abstractmethod
    async def revoke_all(self, user_id: UserId, org_id: OrgId, now: datetime) -> int:
        """Revoke every live key ``user_id`` holds in ``org_id``; how many were revoked."""
