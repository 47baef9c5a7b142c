"""The parts of the providers' JSON answers the adapters read. Unknown fields are ignored (the
providers add fields freely); a missing or mistyped field the adapters need is an unreadable
answer."""

from datetime import datetime
from typing import Generic, TypeVar

import msgspec

__all__ = (
    "BbBranch",
    "BbEmails",
    "BbPage",
    "BbRepository",
    "BbUser",
    "GhBranch",
    "GhGraphqlRefs",
    "GhInstallation",
    "GhInstallationAccount",
    "GhInstallationRepositories",
    "GhInstallations",
    "GhOrganization",
    "GhRepository",
    "GhSearch",
    "GhUser",
    "GlBranch",
    "GlProject",
    "GlUser",
)

T = TypeVar("T")


# ---- GitHub ---------------------------------------------------------------------------------


class GhUser(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    login: str
    name: str | None = None
    email: str | None = None
    avatar_url: str | None = None
    type: str = "User"


class GhRepository(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    full_name: str
    private: bool = False
    default_branch: str | None = None
    pushed_at: datetime | None = None
    owner: GhUser | None = None
    stargazers_count: int | None = None


class GhSearch(msgspec.Struct, frozen=True, kw_only=True):
    total_count: int
    items: list[GhRepository]


class GhOrganization(msgspec.Struct, frozen=True, kw_only=True):
    login: str


class GhInstallationAccount(msgspec.Struct, frozen=True, kw_only=True):
    """A user or an organization (``login``, ``type``), or an enterprise (``slug``, no type)."""

    login: str | None = None
    slug: str | None = None
    type: str | None = None


class GhInstallation(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    account: GhInstallationAccount | None = None


class GhInstallations(msgspec.Struct, frozen=True, kw_only=True):
    total_count: int
    installations: list[GhInstallation]


class GhInstallationRepositories(msgspec.Struct, frozen=True, kw_only=True):
    total_count: int
    repositories: list[GhRepository]


class GhCommitRef(msgspec.Struct, frozen=True, kw_only=True):
    sha: str | None = None


class GhBranch(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    commit: GhCommitRef | None = None
    protected: bool = False


class GhTarget(msgspec.Struct, frozen=True, kw_only=True):
    oid: str | None = None
    committedDate: datetime | None = None  # noqa: N815


class GhRefNode(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    target: GhTarget | None = None
    branchProtectionRule: dict[str, object] | None = None  # noqa: N815


class GhRefs(msgspec.Struct, frozen=True, kw_only=True):
    nodes: list[GhRefNode]


class GhRepositoryRefs(msgspec.Struct, frozen=True, kw_only=True):
    refs: GhRefs | None = None


class GhGraphqlData(msgspec.Struct, frozen=True, kw_only=True):
    repository: GhRepositoryRefs | None = None


class GhGraphqlError(msgspec.Struct, frozen=True, kw_only=True):
    message: str = ""
    type: str | None = None


class GhGraphqlRefs(msgspec.Struct, frozen=True, kw_only=True):
    data: GhGraphqlData | None = None
    errors: list[GhGraphqlError] | None = None


# ---- GitLab ---------------------------------------------------------------------------------


class GlUser(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    username: str
    name: str | None = None
    email: str | None = None
    public_email: str | None = None
    avatar_url: str | None = None


class GlNamespace(msgspec.Struct, frozen=True, kw_only=True):
    kind: str = "user"


class GlProject(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    path_with_namespace: str
    visibility: str = "private"
    default_branch: str | None = None
    last_activity_at: datetime | None = None
    namespace: GlNamespace | None = None
    star_count: int | None = None


class GlCommit(msgspec.Struct, frozen=True, kw_only=True):
    id: str | None = None
    committed_date: datetime | None = None


class GlBranch(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    commit: GlCommit | None = None
    protected: bool = False


# ---- Bitbucket ------------------------------------------------------------------------------


class BbLink(msgspec.Struct, frozen=True, kw_only=True):
    href: str | None = None


class BbUserLinks(msgspec.Struct, frozen=True, kw_only=True):
    avatar: BbLink | None = None


class BbUser(msgspec.Struct, frozen=True, kw_only=True):
    uuid: str
    display_name: str | None = None
    username: str | None = None
    nickname: str | None = None
    links: BbUserLinks | None = None


class BbEmail(msgspec.Struct, frozen=True, kw_only=True):
    email: str
    is_primary: bool = False
    is_confirmed: bool = False


class BbEmails(msgspec.Struct, frozen=True, kw_only=True):
    values: list[BbEmail]


class BbOwner(msgspec.Struct, frozen=True, kw_only=True):
    type: str = "user"


class BbMainBranch(msgspec.Struct, frozen=True, kw_only=True):
    name: str | None = None


class BbRepository(msgspec.Struct, frozen=True, kw_only=True):
    uuid: str
    full_name: str
    is_private: bool = True
    mainbranch: BbMainBranch | None = None
    updated_on: datetime | None = None
    owner: BbOwner | None = None


class BbTarget(msgspec.Struct, frozen=True, kw_only=True):
    hash: str | None = None
    date: datetime | None = None


class BbBranch(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    target: BbTarget | None = None


class BbPage(msgspec.Struct, Generic[T], frozen=True, kw_only=True):
    values: list[T]
    size: int | None = None
    next: str | None = None
