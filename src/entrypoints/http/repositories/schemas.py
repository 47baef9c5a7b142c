from datetime import datetime

import msgspec

from domain.git.entities import Branch, Installation, Page, Repository

__all__ = (
    "BranchList",
    "BranchOut",
    "InstallationList",
    "InstallationOut",
    "RepositoryList",
    "RepositoryOut",
)


class RepositoryOut(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    id: str
    full_name: str
    provider: str
    is_private: bool
    default_branch: str | None
    pushed_at: datetime | None
    owner_type: str | None
    stars: int | None
    installation_id: str | None

    @classmethod
    def from_entity(cls, repo: Repository) -> "RepositoryOut":
        return cls(
            id=repo.id_,
            full_name=repo.full_name,
            provider=repo.provider.value,
            is_private=repo.is_private,
            default_branch=repo.default_branch,
            pushed_at=repo.pushed_at,
            owner_type=repo.owner_type,
            stars=repo.stars,
            installation_id=repo.installation_id,
        )


class RepositoryList(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    items: list[RepositoryOut]
    next_page: int | None
    total: int | None

    @classmethod
    def from_page(cls, page: Page[Repository]) -> "RepositoryList":
        return cls(
            items=[RepositoryOut.from_entity(repo) for repo in page.items],
            next_page=page.next_page,
            total=page.total,
        )


class BranchOut(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    name: str
    commit_sha: str | None
    protected: bool
    last_commit_at: datetime | None

    @classmethod
    def from_entity(cls, branch: Branch) -> "BranchOut":
        return cls(
            name=branch.name,
            commit_sha=branch.commit_sha,
            protected=branch.protected,
            last_commit_at=branch.last_commit_at,
        )


class BranchList(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    items: list[BranchOut]
    next_page: int | None
    total: int | None

    @classmethod
    def from_branches(
        cls, branches: list[Branch], *, next_page: int | None = None, total: int | None = None
    ) -> "BranchList":
        return cls(
            items=[BranchOut.from_entity(branch) for branch in branches],
            next_page=next_page,
            total=total,
        )


class InstallationOut(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    id: str
    account_login: str
    account_type: str

    @classmethod
    def from_entity(cls, installation: Installation) -> "InstallationOut":
        return cls(
            id=installation.id_,
            account_login=installation.account_login,
            account_type=installation.account_type,
        )


class InstallationList(msgspec.Struct, frozen=True, kw_only=True):
    items: list[InstallationOut]
