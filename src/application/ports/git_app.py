from abc import abstractmethod
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from domain.git.providers import GitHost, ProviderKind
from domain.resolver.entities import InstallationToken
from domain.resolver.triggers import ThreadRef

__all__ = (
    "GitApp",
    "GitApps",
    "InstallationAccount",
    "IssueThreads",
    "RepositoryPermission",
)


class RepositoryPermission(StrEnum):
    """A person's permission on a repository, as the provider names its levels."""

    ADMIN = "admin"
    MAINTAIN = "maintain"
    WRITE = "write"
    TRIAGE = "triage"
    READ = "read"
    NONE = "none"

    @property
    def can_write(self) -> bool:
        return self in {
            RepositoryPermission.ADMIN,
            RepositoryPermission.MAINTAIN,
            RepositoryPermission.WRITE,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class InstallationAccount:
    """Whom an installation is on: a provider user or organization."""

    installation_id: str
    account_login: str
    account_type: str


class GitApp(Protocol):
    """The app registered at a provider (a GitHub App), acting as itself.

    Raises ``DependencyUnavailableError`` when the provider cannot be reached or refuses the
    app's own credentials, ``NotFoundError`` for an installation it does not know."""

    @abstractmethod
    async def mint_token(self, installation_id: str) -> InstallationToken:
        """A new short-lived token for one installation."""


class IssueThreads(Protocol):
    """Issues and pull requests, through an installation's token.

    Raises ``DependencyUnavailableError`` when the provider cannot be reached or refuses,
    ``NotFoundError`` when what is named is gone."""

    @abstractmethod
    async def permission(self, repository: str, login: str) -> RepositoryPermission:
        """What ``login`` may do on ``repository`` (``none`` for a stranger)."""

    @abstractmethod
    async def react(self, thread: ThreadRef, comment_id: str | None, *, review: bool) -> None:
        """Mark the comment (or, with none, the issue) as seen, with the eyes reaction; doing
        it again adds nothing."""

    @abstractmethod
    async def comment(self, thread: ThreadRef, body: str) -> str:
        """Write a comment in the thread; its id."""

    @abstractmethod
    async def head_branch(self, thread: ThreadRef) -> str | None:
        """A pull request's head branch, when it lives in the repository itself (a fork's is
        not ours to push to): None for an issue or a fork's pull request."""


class GitApps(Protocol):
    """The app of each provider that has one configured."""

    @abstractmethod
    def app(self, provider: ProviderKind) -> GitApp | None: ...

    @abstractmethod
    def threads(self, host: GitHost, token: str) -> IssueThreads: ...
