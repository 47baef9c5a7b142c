from dataclasses import dataclass
from datetime import datetime

from domain.git.entities import ProviderToken
from domain.git.providers import ProviderKind

__all__ = ("GitConnection",)


@dataclass(frozen=True, slots=True, kw_only=True)
class GitConnection:
    """A connected git provider as its user may see it: never the token itself."""

    provider: ProviderKind
    base_url: str | None
    """The GitHub Enterprise or self-hosted GitLab address; None for the public cloud."""
    scopes: str | None
    expires_at: datetime | None
    refreshable: bool
    """Whether the server can renew the token without the user (it holds a refresh token)."""
    updated_at: datetime

    @classmethod
    def of(cls, token: ProviderToken) -> "GitConnection":
        return cls(
            provider=token.provider,
            base_url=token.host.base_url,
            scopes=token.scopes,
            expires_at=token.expires_at,
            refreshable=token.refresh_token is not None,
            updated_at=token.updated_at,
        )
