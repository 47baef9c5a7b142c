import base64
import hashlib
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import NewType
from uuid import UUID

from domain.identity.entities import UserId

__all__ = (
    "REFRESH_MARGIN",
    "ProviderTokens",
    "Session",
    "SessionId",
    "new_session_token",
    "session_token_hash",
)

SessionId = NewType("SessionId", UUID)

REFRESH_MARGIN = timedelta(seconds=30)
"""By default an access token this close to expiry is refreshed before the request goes on."""


def new_session_token() -> str:
    """The opaque value of a session cookie: 256 random bits, nothing else."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()


def session_token_hash(token: str) -> str:
    """What is stored in place of the cookie value."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class ProviderTokens:
    """Tokens from the identity provider, sealed by the cipher before they are stored."""

    access_token: str
    access_expires_at: datetime
    refresh_token: str | None
    refresh_expires_at: datetime | None
    id_token: str | None

    def __repr__(self) -> str:
        return f"ProviderTokens(access_expires_at={self.access_expires_at!r}, ...)"


@dataclass(frozen=True, slots=True, kw_only=True)
class Session:
    """A signed-in browser: the cookie holds a random token whose hash finds this row."""

    id_: SessionId
    user_id: UserId
    token_hash: str
    tokens: ProviderTokens
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    identity_provider: str | None = None
    user_agent: str | None = None
    revoked_at: datetime | None = None

    def is_live(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at

    def needs_refresh(self, now: datetime, margin: timedelta = REFRESH_MARGIN) -> bool:
        return now >= self.tokens.access_expires_at - margin

    def proof_valid_until(self, margin: timedelta = REFRESH_MARGIN) -> datetime:
        """Until when what this session proves may be reused without reading it again: its
        end, or the time its access token is due for a refresh, whichever comes first."""
        return min(self.expires_at, self.tokens.access_expires_at - margin)

    def refreshed(self, tokens: ProviderTokens, now: datetime) -> "Session":
        expires = tokens.refresh_expires_at or self.expires_at
        return replace(
            self,
            tokens=replace(
                tokens,
                refresh_token=tokens.refresh_token or self.tokens.refresh_token,
                id_token=tokens.id_token or self.tokens.id_token,
            ),
            expires_at=expires,
            last_seen_at=now,
        )

    def revoked(self, now: datetime) -> "Session":
        return self if self.revoked_at is not None else replace(self, revoked_at=now)
