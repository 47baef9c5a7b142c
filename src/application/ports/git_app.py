from abc import abstractmethod
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from domain.git.providers import GitHost, ProviderKind
from domain.resolver.entities import InstallationToken
from domain.resolver.triggers import EventSender, ThreadRef

__all__ = (
    "GitApp",
    "GitApps",
    "InstallationAccount",
    "IssueThreads",
    "RepositoryHooks",
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
    """Issues and pull requests (GitLab's merge requests), through an installation's token or
    the provider token of the user who enabled the repository.

    Raises ``DependencyUnavailableError`` when the provider cannot be reached or refuses,
    ``NotFoundError`` when what is named is gone."""

    @abstractmethod
    async def permission(self, repository: str, sender: EventSender) -> RepositoryPermission:
        """What ``sender`` may do on ``repository`` (``none`` for a stranger): GitLab's
        Developer role and up, and Bitbucket's write, are ``write`` or more."""

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


class RepositoryHooks(Protocol):
    """A repository's webhooks at a provider with no app (GitLab, Bitbucket Cloud), through a
    user's token; errors as ``IssueThreads``'."""

    @abstractmethod
    async def install(self, repository: str, url: str, secret: str, *, group: bool) -> str:
        """Add a webhook delivering issue, merge or pull request and comment events to
        ``url``, with ``secret`` (GitLab's token, Bitbucket's signing secret); its id. With
        ``group``, ``repository`` is a GitLab group's path, and the webhook the group's."""

    @abstractmethod
    async def find(self, repository: str, url: str, *, group: bool) -> str | None:
        """The id of a webhook of the repository (or group) delivering to ``url``, if there
        is one: an install cut off before its id was kept is found, not made twice."""

    @abstractmethod
    async def remove(self, repository: str, hook_id: str, *, group: bool) -> None:
        """Remove the webhook; one already gone is no error."""


class GitApps(Protocol):
    """The app of each provider that has one configured, and what acts on threads."""

    @abstractmethod
    def app(self, provider: ProviderKind) -> GitApp | None: ...

    @abstractmethod
    def threads(self, host: GitHost, token: str) -> IssueThreads: ...

    @abstractmethod
    def hooks(self, host: GitHost, token: str) -> RepositoryHooks:
        """``NotImplementedError`` for a provider whose webhooks come with its app."""
