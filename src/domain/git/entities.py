from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Generic, TypeVar

from domain.git.providers import GitHost, ProviderKind
from domain.identity.entities import UserId

__all__ = (
    "Branch",
    "GitAccount",
    "Installation",
    "Page",
    "ProviderToken",
    "RepoSort",
    "Repository",
)

T = TypeVar("T")


class RepoSort(StrEnum):
    """How a repository listing is ordered; every provider maps these to its own parameters."""

    PUSHED = "pushed"
    UPDATED = "updated"
    CREATED = "created"
    NAME = "name"


@dataclass(frozen=True, slots=True, kw_only=True)
class GitAccount:
    """The user as the provider knows them."""

    provider: ProviderKind
    id_: str
    login: str
    name: str | None
    email: str | None
    avatar_url: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Repository:
    provider: ProviderKind
    id_: str
    full_name: str
    """``owner/name`` (GitHub, Bitbucket ``workspace/slug``) or the full GitLab namespace path."""
    is_private: bool
    default_branch: str | None
    pushed_at: datetime | None
    owner_type: str | None
    """``user`` or ``organization`` (GitLab groups and Bitbucket workspaces count as
    organizations)."""
    stars: int | None = None
    installation_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Branch:
    name: str
    commit_sha: str | None
    protected: bool
    last_commit_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Installation:
    """A GitHub App installation the user can reach."""

    id_: str
    account_login: str
    account_type: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Page(Generic[T]):
    """One page of a listing; ``next_page`` is the opaque number to ask for next, or None."""

    items: list[T]
    next_page: int | None
    total: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ProviderToken:
    """A git provider's token for one user, sealed at rest by the adapter."""

    user_id: UserId
    host: GitHost
    access_token: str
    refresh_token: str | None
    expires_at: datetime | None
    """None: the token does not expire (personal access tokens, classic OAuth apps)."""
    scopes: str | None
    updated_at: datetime
    refresh_expires_at: datetime | None = None

    @property
    def provider(self) -> ProviderKind:
        return self.host.kind

    def expires_within(self, margin: timedelta, now: datetime) -> bool:
        """Whether the access token is expired or will be within ``margin``."""
        return self.expires_at is not None and self.expires_at - margin <= now

    def refreshed(
        self,
        *,
        access_token: str,
        refresh_token: str | None,
        expires_at: datetime | None,
        refresh_expires_at: datetime | None,
        scopes: str | None,
        now: datetime,
    ) -> "ProviderToken":
        """This token after a refresh; a provider that sent no new refresh token keeps the old."""
        return replace(
            self,
            access_token=access_token,
            refresh_token=refresh_token if refresh_token is not None else self.refresh_token,
            expires_at=expires_at,
            refresh_expires_at=(
                refresh_expires_at if refresh_token is not None else self.refresh_expires_at
            ),
            scopes=scopes if scopes is not None else self.scopes,
            updated_at=now,
        )

    def __repr__(self) -> str:
        return f"ProviderToken(user_id={self.user_id!r}, host={self.host!r}, ...)"
