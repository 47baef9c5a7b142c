from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Generic, TypeVar

from domain.git.providers import ProviderKind

__all__ = (
    "Branch",
    "GitAccount",
    "Installation",
    "Page",
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
