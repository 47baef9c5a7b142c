from dataclasses import dataclass
from datetime import datetime, timedelta

from application.errors import CredentialNotAllowedError
from application.ports.clock import Clock
from application.ports.org_repository import MemberOrganization
from application.ports.unit_of_work import UnitOfWork
from domain.audit.entities import AuditAction, AuditEvent
from domain.identity.api_keys import (
    ApiKey,
    ApiKeyId,
    ApiKeyName,
    ApiKeyToken,
    issue_token,
    secret_hash,
)
from domain.identity.errors import InvalidApiKeyExpiryError
from domain.identity.principals import AuthMethod, Principal
from domain.identity.scopes import Scope
from domain.organizations.entities import Role
from domain.shared.errors import PermissionDeniedError
from domain.shared.ids import new_id

__all__ = ("CreateApiKey", "CreateApiKeyRequest", "CreateApiKeyResult")

MAX_LIFETIME = timedelta(days=366)


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateApiKeyRequest:
    actor: Principal
    org: MemberOrganization
    name: str
    scopes: frozenset[Scope]
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateApiKeyResult:
    key: ApiKey
    token: ApiKeyToken
    """The only time the whole token exists outside the caller's hands."""


class CreateApiKey:
    """Make an API key that acts as the caller inside the active organization.

    Only a signed-in caller may make keys (a key cannot mint keys), ``org:admin`` only by an
    owner or admin of that organization, and an expiry must lie within a year. The token is
    returned once; only its hash is stored.
    """

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(self, request: CreateApiKeyRequest) -> CreateApiKeyResult:
        if request.actor.method is AuthMethod.API_KEY:
            raise CredentialNotAllowedError
        name = ApiKeyName(request.name)
        now = self._clock.now()
        if request.expires_at is not None and not (now < request.expires_at <= now + MAX_LIFETIME):
            raise InvalidApiKeyExpiryError(field="expires_at")
        if Scope.ORG_ADMIN in request.scopes and request.org.role is Role.MEMBER:
            raise PermissionDeniedError(
                "Only an owner or admin of the organization may give a key org:admin."
            )
        token = issue_token()
        key = ApiKey(
            id_=ApiKeyId(new_id()),
            user_id=request.actor.user.id_,
            org_id=request.org.organization.id_,
            name=name,
            lookup=token.lookup,
            secret_hash=secret_hash(token.secret),
            scopes=request.scopes,
            created_at=now,
            expires_at=request.expires_at,
        )
        await self._uow.api_keys.add(key)
        await self._uow.audit.append(
            AuditEvent(
                occurred_at=now,
                action=AuditAction.API_KEY_CREATED,
                actor_id=key.user_id,
                org_id=key.org_id,
                target_type="api_key",
                target_id=str(key.id_),
                details={
                    "name": name.value,
                    "prefix": key.prefix,
                    "scopes": " ".join(sorted(key.scopes)),
                },
            )
        )
        await self._uow.commit()
        return CreateApiKeyResult(key=key, token=token)
