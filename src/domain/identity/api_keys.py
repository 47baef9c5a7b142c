import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import ClassVar, NewType
from uuid import UUID

from domain.identity.entities import UserId
from domain.identity.errors import InvalidApiKeyNameError
from domain.identity.scopes import Scope
from domain.organizations.entities import OrgId

__all__ = ("ApiKey", "ApiKeyId", "ApiKeyName", "ApiKeyToken", "issue_token")

ApiKeyId = NewType("ApiKeyId", UUID)

TOKEN_PREFIX = "mst"  # noqa: S105 - a public marker, not a secret
_LOOKUP_BYTES = 9
_SECRET_BYTES = 32
LAST_USED_RESOLUTION = timedelta(minutes=1)
"""``last_used_at`` moves at most this often, so a busy key does not write on every request."""


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def secret_hash(secret: str) -> str:
    """SHA-256 of the secret part. The secret has 256 random bits, so no slow hash is needed."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class ApiKeyToken:
    """The parts of ``mst_<lookup>_<secret>``: a public lookup id and the secret."""

    lookup: str
    secret: str

    LOOKUP_LENGTH: ClassVar[int] = len(_b64(b"\0" * _LOOKUP_BYTES))
    SECRET_LENGTH: ClassVar[int] = len(_b64(b"\0" * _SECRET_BYTES))

    @classmethod
    def parse(cls, presented: str) -> "ApiKeyToken | None":
        """The token's parts, or ``None`` when the string cannot be one of our keys."""
        if not presented.startswith(f"{TOKEN_PREFIX}_"):
            return None
        body = presented[len(TOKEN_PREFIX) + 1 :]
        lookup, secret = body[: cls.LOOKUP_LENGTH], body[cls.LOOKUP_LENGTH + 1 :]
        if body[cls.LOOKUP_LENGTH : cls.LOOKUP_LENGTH + 1] != "_":
            return None
        if len(lookup) != cls.LOOKUP_LENGTH or len(secret) != cls.SECRET_LENGTH:
            return None
        return cls(lookup=lookup, secret=secret)

    @property
    def prefix(self) -> str:
        """What may be shown and logged: it identifies the key but cannot be used."""
        return f"{TOKEN_PREFIX}_{self.lookup}"

    def __str__(self) -> str:
        return f"{self.prefix}_{self.secret}"


def issue_token() -> ApiKeyToken:
    return ApiKeyToken(
        lookup=_b64(secrets.token_bytes(_LOOKUP_BYTES)),
        secret=_b64(secrets.token_bytes(_SECRET_BYTES)),
    )


@dataclass(frozen=True, slots=True)
class ApiKeyName:
    value: str
    MAX_LENGTH: ClassVar[int] = 100

    def __post_init__(self) -> None:
        cleaned = " ".join(self.value.split())
        if not cleaned or len(cleaned) > self.MAX_LENGTH or not cleaned.isprintable():
            raise InvalidApiKeyNameError(
                f"A key name has 1 to {self.MAX_LENGTH} printable characters.", field="name"
            )
        object.__setattr__(self, "value", cleaned)


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiKey:
    """A credential that acts as one user inside one organization, limited to its scopes.

    Only the hash of its secret is kept; the whole token is shown once, when it is created.
    """

    id_: ApiKeyId
    user_id: UserId
    org_id: OrgId
    name: ApiKeyName
    lookup: str
    secret_hash: str
    scopes: frozenset[Scope]
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None

    @property
    def prefix(self) -> str:
        return f"{TOKEN_PREFIX}_{self.lookup}"

    def matches(self, token: ApiKeyToken) -> bool:
        """Constant-time check of the presented secret against the stored hash."""
        return token.lookup == self.lookup and hmac.compare_digest(
            secret_hash(token.secret), self.secret_hash
        )

    def is_usable(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)

    def needs_touch(self, now: datetime) -> bool:
        return self.last_used_at is None or now - self.last_used_at >= LAST_USED_RESOLUTION

    def proof_valid_until(self) -> datetime | None:
        """Until when what this key proves may be reused without reading it again: its expiry,
        or the time its next use is due to be recorded, whichever comes first."""
        due = None if self.last_used_at is None else self.last_used_at + LAST_USED_RESOLUTION
        return min((t for t in (self.expires_at, due) if t is not None), default=None)

    def touched(self, now: datetime) -> "ApiKey":
        return replace(self, last_used_at=now)

    def revoked(self, now: datetime) -> "ApiKey":
        return self if self.revoked_at is not None else replace(self, revoked_at=now)
