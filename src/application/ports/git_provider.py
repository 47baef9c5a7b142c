from abc import abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domain.git.entities import Branch, GitAccount, Installation, Page, Repository, RepoSort
from domain.git.providers import GitHost

__all__ = ("GitInstallations", "GitProvider", "GitProviders", "ProviderOAuth", "RefreshedToken")


class GitProvider(Protocol):
    """One user's view of one git host, through the access token it was opened with.

    Adapters raise ``ProviderReconnectRequiredError`` when the host refuses the token,
    ``NotFoundError`` for a repository the token cannot see, and
    ``DependencyUnavailableError`` when the host does not answer or fails.
    """

    @property
    @abstractmethod
    def host(self) -> GitHost: ...

    @abstractmethod
    async def get_account(self) -> GitAccount: ...

    @abstractmethod
    async def list_repositories(
        self, *, page: int, per_page: int, sort: RepoSort
    ) -> Page[Repository]:
        """The repositories the user can reach. ``page`` starts at 1."""

    @abstractmethod
    async def search_repositories(
        self, query: str, *, page: int, per_page: int, sort: RepoSort
    ) -> Page[Repository]: ...

    @abstractmethod
    async def list_branches(self, repository: str, *, page: int, per_page: int) -> Page[Branch]:
        """Branches of ``repository`` (its ``full_name``). ``page`` starts at 1."""

    @abstractmethod
    async def search_branches(self, repository: str, query: str, *, per_page: int) -> list[Branch]:
        """Branches of ``repository`` whose name contains ``query``."""


class GitInstallations(Protocol):
    """One user's view of the app installations on a git host that has them (GitHub Apps),
    through the access token it was opened with; errors as ``GitProvider``'s."""

    @abstractmethod
    async def list_installations(self) -> list[Installation]:
        """The installations the user can reach."""

    @abstractmethod
    async def list_installation_repositories(
        self, installation_id: str, *, page: int, per_page: int
    ) -> Page[Repository]:
        """The repositories of one installation, in the host's order. ``page`` starts at 1;
        ``NotFoundError(field="installation_id")`` for an installation the user cannot reach,
        ``InvalidValueError(field="installation_id")`` for an id that is not one."""


class GitProviders(Protocol):
    """Opens a ``GitProvider`` for a host and an access token, and its ``GitInstallations``
    where the host has app installations."""

    @abstractmethod
    def open(self, host: GitHost, access_token: str) -> GitProvider: ...

    @abstractmethod
    def installations(self, host: GitHost, access_token: str) -> GitInstallations | None:
        """The host's app installations seen through ``access_token``; None for a provider
        that has none."""

    @abstractmethod
    def clone_url(self, host: GitHost, repository: str) -> str:
        """Where git clones ``repository`` (its ``full_name``) over HTTPS, with no credentials
        in it; ``InvalidValueError(field="repository")`` for a name that is not one."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RefreshedToken:
    access_token: str
    refresh_token: str | None
    """None when the provider issued no new refresh token: keep the old one."""
    expires_at: datetime | None
    refresh_expires_at: datetime | None
    scopes: str | None

    def __repr__(self) -> str:
        return f"RefreshedToken(expires_at={self.expires_at!r}, ...)"


class ProviderOAuth(Protocol):
    """The provider's OAuth token endpoint, with the OAuth app credentials the server holds."""

    @abstractmethod
    def can_refresh(self, host: GitHost) -> bool:
        """Whether the server holds OAuth app credentials for ``host``."""

    @abstractmethod
    async def refresh(self, host: GitHost, refresh_token: str) -> RefreshedToken:
        """Trade ``refresh_token`` for a new access token. Raises
        ``ProviderReconnectRequiredError`` when the provider refuses it (revoked, expired,
        used) and ``DependencyUnavailableError`` when the provider does not answer or fails."""
