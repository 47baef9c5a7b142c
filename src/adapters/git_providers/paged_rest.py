from abc import abstractmethod
from typing import Any, ClassVar

import httpx

from adapters.git_providers.http import (
    ProviderHttp,
    bounded_per_page,
    checked_page,
    checked_query,
    contains,
)
from application.ports.git_provider import GitProvider
from domain.git.entities import Branch, Page, Repository, RepoSort
from domain.git.providers import GitHost

__all__ = ("PagedRestProvider",)


class PagedRestProvider(GitProvider):
    """A git host whose REST API lists the user's repositories and a repository's branches a
    numbered page at a time, each listing narrowed by the host's own name filter.

    This base asks, checks what goes into the URL and pages; a subclass names its endpoints
    and query parameters and maps its payloads to pages. Branch search asks the host with its
    filter, then keeps the names that contain the text, whatever the host's filter reads as
    an anchor or a pattern.
    """

    repositories_path: ClassVar[str]
    per_page_param: ClassVar[str]

    def __init__(
        self, client: httpx.AsyncClient, host: GitHost, *, api_url: str, authorization: str
    ) -> None:
        self._http = ProviderHttp(
            client, host, api_url=api_url, headers={"Authorization": authorization}
        )

    @property
    def host(self) -> GitHost:
        return self._http.host

    @abstractmethod
    def _listing(self, sort: RepoSort) -> dict[str, Any]:
        """Query parameters that keep the repositories to the user's and sort them."""

    @abstractmethod
    def _name_filter(self, text: str) -> dict[str, Any]:
        """Query parameters that narrow a listing to names matching ``text``."""

    @abstractmethod
    def _branches_path(self, repository: str) -> str:
        """The branches endpoint of ``repository``; ``InvalidValueError`` for a name that is
        not one."""

    @abstractmethod
    def _repository_page(self, response: httpx.Response) -> Page[Repository]: ...

    @abstractmethod
    def _branch_page(self, response: httpx.Response) -> Page[Branch]: ...

    def _paging(self, page: int, per_page: int) -> dict[str, Any]:
        return {"page": checked_page(page), self.per_page_param: bounded_per_page(per_page)}

    async def list_repositories(
        self, *, page: int, per_page: int, sort: RepoSort
    ) -> Page[Repository]:
        params = self._listing(sort) | self._paging(page, per_page)
        return self._repository_page(await self._http.get(self.repositories_path, params))

    async def search_repositories(
        self, query: str, *, page: int, per_page: int, sort: RepoSort
    ) -> Page[Repository]:
        params = (
            self._listing(sort)
            | self._paging(page, per_page)
            | self._name_filter(checked_query(query))
        )
        return self._repository_page(await self._http.get(self.repositories_path, params))

    async def list_branches(self, repository: str, *, page: int, per_page: int) -> Page[Branch]:
        path = self._branches_path(repository)
        response = await self._http.get(path, self._paging(page, per_page), repository=repository)
        return self._branch_page(response)

    async def search_branches(self, repository: str, query: str, *, per_page: int) -> list[Branch]:
        path = self._branches_path(repository)
        text = checked_query(query)
        response = await self._http.get(
            path, self._name_filter(text) | self._paging(1, per_page), repository=repository
        )
        return [b for b in self._branch_page(response).items if contains(b.name, text)]
