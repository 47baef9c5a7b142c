from dataclasses import dataclass

from application.ports.access_revocations import AccessRevocations, ApiKeyRevoked
from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWork
from domain.audit.entities import AuditAction, AuditEvent
from domain.identity.api_keys import ApiKeyId
from domain.identity.errors import ApiKeyNotFoundError
from domain.identity.principals import Principal

__all__ = ("RevokeApiKey", "RevokeApiKeyRequest")


@dataclass(frozen=True, slots=True, kw_only=True)
class RevokeApiKeyRequest:
    actor: Principal
    key_id: ApiKeyId


class RevokeApiKey:
    """Revoke one of the caller's keys; it stops working at once, on open websockets too.
    Revoking twice is harmless.

    A key of someone else is reported as not found. Only a person revokes keys: an API key
    is refused before this runs, so a leaked key cannot revoke the owner's others.
    """

    def __init__(self, uow: UnitOfWork, clock: Clock, revocations: AccessRevocations) -> None:
        self._revocations = revocations
        self._uow = uow
        self._clock = clock

    async def execute(self, request: RevokeApiKeyRequest) -> None:
        key = await self._uow.api_keys.get_for_user(request.key_id, request.actor.user.id_)
        if key is None:
            raise ApiKeyNotFoundError
        if key.revoked_at is not None:
            return
        now = self._clock.now()
        await self._uow.api_keys.save(key.revoked(now))
        await self._uow.audit.append(
            AuditEvent(
                occurred_at=now,
                action=AuditAction.API_KEY_REVOKED,
                actor_id=request.actor.user.id_,
                org_id=key.org_id,
                target_type="api_key",
                target_id=str(key.id_),
                details={"prefix": key.prefix},
            )
        )
        await self._uow.commit()
        await self._revocations.publish([ApiKeyRevoked(key.id_)])
