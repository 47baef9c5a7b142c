"""What the resolver keeps: the app's installations and the organization each works for, the
threads it answers with their conversation, and which provider account is which user."""

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from domain.conversations.value_objects import ConversationId
from domain.git.providers import ProviderKind
from domain.identity.entities import UserId
from domain.organizations.entities import OrgId
from domain.resolver.triggers import ResolverPolicy, ThreadRef
from domain.shared.errors import (
    ConflictError,
    InvalidValueError,
    NotFoundError,
    PermissionDeniedError,
)

__all__ = (
    "TOKEN_REFRESH_MARGIN",
    "AppInstallation",
    "GitIdentity",
    "InstallationNotFoundError",
    "InstallationTakenError",
    "InstallationToken",
    "RepositoryHook",
    "RepositoryHookNotFoundError",
    "RepositoryHookTakenError",
    "ResolverSettings",
    "ResolverThread",
)

TOKEN_REFRESH_MARGIN = timedelta(minutes=5)
"""An installation token is minted anew this long before it expires."""


class InstallationNotFoundError(NotFoundError):
    code = "app-installation-not-found"
    default_message = "The app has no installation with this id that you can reach."


class InstallationTakenError(PermissionDeniedError):
    code = "app-installation-taken"
    default_message = "This installation already works for another organization."


class RepositoryHookNotFoundError(NotFoundError):
    code = "resolver-repository-not-found"
    default_message = "The resolver is not enabled on this repository in this organization."


class RepositoryHookTakenError(ConflictError):
    code = "resolver-repository-taken"
    default_message = "The resolver is enabled on this repository already."


@dataclass(frozen=True, slots=True, kw_only=True)
class InstallationToken:
    """A short-lived token the provider gave the app for one installation."""

    token: str
    expires_at: datetime

    def fresh_at(self, now: datetime) -> bool:
        return now < self.expires_at - TOKEN_REFRESH_MARGIN

    def __repr__(self) -> str:
        return f"InstallationToken(expires_at={self.expires_at!r}, ...)"


@dataclass(frozen=True, slots=True, kw_only=True)
class AppInstallation:
    """The app installed on a provider account (a user or an organization there), and the
    organization here it works for once one of that organization's admins linked it; until
    then its triggers are answered by nobody."""

    provider: ProviderKind
    installation_id: str
    account_login: str
    account_type: str
    org_id: OrgId | None = None
    repositories: tuple[str, ...] = ()
    """The repositories it was given (``owner/name``); empty with ``all_repositories``."""
    all_repositories: bool = False
    suspended: bool = False
    updated_at: datetime
    token: InstallationToken | None = field(default=None, repr=False)

    def covers(self, repository: str) -> bool:
        return self.all_repositories or repository.lower() in {
            name.lower() for name in self.repositories
        }

    def with_repositories(
        self, added: tuple[str, ...], removed: tuple[str, ...], now: datetime
    ) -> "AppInstallation":
        gone = {name.lower() for name in removed}
        kept = [name for name in self.repositories if name.lower() not in gone]
        kept += [name for name in added if name.lower() not in {k.lower() for k in kept}]
        return replace(self, repositories=tuple(sorted(kept)), updated_at=now)

    def linked_to(self, org_id: OrgId, now: datetime) -> "AppInstallation":
        if self.org_id is not None and self.org_id != org_id:
            raise InstallationTakenError
        return replace(self, org_id=org_id, updated_at=now)


@dataclass(frozen=True, slots=True, kw_only=True)
class GitIdentity:
    """A provider account that a user proved is theirs (they signed in with it, or connected
    its token): how a webhook's sender becomes our user, never by email or login name."""

    user_id: UserId
    provider: ProviderKind
    account_id: str
    login: str
    linked_at: datetime


@dataclass(kw_only=True)
class ResolverThread:
    """An issue or pull request the agent answers, and the conversation it answers in: a
    follow-up mention goes to that conversation while it exists."""

    thread: ThreadRef
    org_id: OrgId
    user_id: UserId
    installation_id: str
    conversation_id: ConversationId
    last_trigger: str
    """The trigger it last took (its delivery's key): a retried job does not take it again."""
    created_at: datetime
    updated_at: datetime
    acknowledged: bool = False
    """Whether the thread was told, with a link, that the agent is on it."""
    summaries_posted: int = 0
    pull_requests: tuple[str, ...] = ()
    """Web addresses of the pull requests the agent opened for it."""


@dataclass(kw_only=True)
class RepositoryHook:
    """A repository an organization's admin enabled the resolver on, at a provider with no
    app (GitLab, Bitbucket Cloud): the webhook there, which signs or names its deliveries with
    a secret of its own, the organization its triggers are answered in, and whose provider
    token acts for it (``enabled_by``: the replies are written as that account)."""

    id_: str
    provider: ProviderKind
    web_url: str
    """The provider's web address the repository lives at (a self-managed GitLab's own)."""
    repository: str
    """Its full path (``group/subgroup/project``, ``workspace/slug``), or a GitLab group's."""
    org_id: OrgId
    enabled_by: UserId
    secret: str = field(repr=False)
    managed: bool = True
    """Installed and removed at the provider by the server; else registered there by hand."""
    hook_id: str | None = None
    """The provider's id of the webhook, once installed."""
    group: bool = False
    """A GitLab group's webhook: every project under the group (and its subgroups)."""
    created_at: datetime
    updated_at: datetime

    def serves(self, web_url: str) -> bool:
        """Whether a delivery about the repository at ``web_url`` is this hook's."""
        mine = f"{self.web_url.rstrip('/')}/{self.repository}".lower()
        theirs = web_url.rstrip("/").lower()
        return theirs.startswith(f"{mine}/") if self.group else theirs == mine


MAX_RUNS_PER_REPOSITORY = 100


@dataclass(frozen=True, slots=True, kw_only=True)
class ResolverSettings:
    """What an organization's admins set for the resolver: the label and handle that trigger
    it on their repositories (None: the server's), and how many resolver conversations may
    run at once on one repository (None: no cap; one per issue or pull request always)."""

    org_id: OrgId
    label: str | None = None
    handle: str | None = None
    max_runs_per_repository: int | None = None
    updated_at: datetime | None = None

    def __post_init__(self) -> None:
        ResolverPolicy(label=self.label or "openhands", handle=self.handle or "@openhands")
        cap = self.max_runs_per_repository
        if cap is not None and not 1 <= cap <= MAX_RUNS_PER_REPOSITORY:
            raise InvalidValueError(
                f"At most 1 to {MAX_RUNS_PER_REPOSITORY} runs at once on a repository.",
                field="max_runs_per_repository",
            )

    def policy(self, server: ResolverPolicy) -> ResolverPolicy:
        """The server's policy with this organization's label and handle."""
        return replace(
            server, label=self.label or server.label, handle=self.handle or server.handle
        )
