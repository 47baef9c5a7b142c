import base64
from typing import Any, TypeVar
from urllib.parse import quote

import httpx

from adapters.git_providers.http import page_param, repository_segments
from adapters.git_providers.paged_rest import PagedRestProvider
from adapters.git_providers.payloads import BbBranch, BbEmails, BbPage, BbRepository, BbUser
from domain.git.entities import Branch, GitAccount, Page, Repository, RepoSort
from domain.git.errors import ProviderReconnectRequiredError
from domain.git.providers import GitHost, ProviderKind

__all__ = ("BitbucketProvider", "authorization", "name_filter")

T = TypeVar("T")

_SORT = {
    RepoSort.PUSHED: "-updated_on",
    RepoSort.UPDATED: "-updated_on",
    RepoSort.CREATED: "-created_on",
    RepoSort.NAME: "name",
}


def name_filter(text: str) -> str:
    """The BBQL filter ``name ~ "text"``, with the backslashes and quotes in ``text`` escaped
    so that it stays one string literal."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'name ~ "{escaped}"'


def _repository(raw: BbRepository) -> Repository:
    owner = raw.owner.type if raw.owner else None
    return Repository(
        provider=ProviderKind.BITBUCKET,
        id_=raw.uuid,
        full_name=raw.full_name,
        is_private=raw.is_private,
        default_branch=raw.mainbranch.name if raw.mainbranch else None,
        pushed_at=raw.updated_on,
        owner_type=None if owner is None else ("user" if owner == "user" else "organization"),
    )


def _branch(raw: BbBranch) -> Branch:
    return Branch(
        name=raw.name,
        commit_sha=raw.target.hash if raw.target else None,
        protected=False,
        last_commit_at=raw.target.date if raw.target else None,
    )


def _page(body: BbPage[Any], items: list[T]) -> Page[T]:
    return Page(items=items, next_page=page_param(body.next), total=body.size)


def authorization(token: str) -> str:
    """``username:app_password`` (an app password, or an API token with the account's email
    as username) goes as HTTP Basic; anything else is an OAuth access token, sent as bearer."""
    if ":" in token:
        return "Basic " + base64.b64encode(token.encode()).decode()
    return f"Bearer {token}"


class BitbucketProvider(PagedRestProvider):
    """Bitbucket Cloud's 2.0 API with one user's token. Repositories are those the user is a
    member of (``role=member``); ``pushed_at`` is Bitbucket's ``updated_on``, the closest it
    has; branch restrictions are not read, so ``protected`` is always False. The email is the
    confirmed primary address when the token has the ``email`` scope. Name filters are BBQL
    (``q=name ~ "text"``); pages come in an envelope (``values``, ``next``, ``size``)."""

    repositories_path = "/repositories"
    per_page_param = "pagelen"

    def __init__(
        self, client: httpx.AsyncClient, host: GitHost, *, api_url: str, token: str
    ) -> None:
        super().__init__(client, host, api_url=api_url, authorization=authorization(token))

    async def get_account(self) -> GitAccount:
        user = self._http.decode(await self._http.get("/user"), BbUser)
        avatar = user.links.avatar.href if user.links and user.links.avatar else None
        return GitAccount(
            provider=ProviderKind.BITBUCKET,
            id_=user.uuid,
            login=user.username or user.nickname or user.uuid,
            name=user.display_name,
            email=await self._primary_email(),
            avatar_url=avatar or None,
        )

    async def _primary_email(self) -> str | None:
        try:
            response = await self._http.get("/user/emails")
        except ProviderReconnectRequiredError:
            return None  # the token lacks the email scope
        emails = self._http.decode(response, BbEmails).values
        return next((e.email for e in emails if e.is_primary and e.is_confirmed), None)

    def _listing(self, sort: RepoSort) -> dict[str, Any]:
        return {"role": "member", "sort": _SORT[sort]}

    def _name_filter(self, text: str) -> dict[str, Any]:
        return {"q": name_filter(text)}

    def _branches_path(self, repository: str) -> str:
        workspace, slug = repository_segments(repository, max_segments=2)
        return f"/repositories/{quote(workspace)}/{quote(slug)}/refs/branches"

    def _repository_page(self, response: httpx.Response) -> Page[Repository]:
        body = self._http.decode(response, BbPage[BbRepository])
        return _page(body, [_repository(r) for r in body.values])

    def _branch_page(self, response: httpx.Response) -> Page[Branch]:
        body = self._http.decode(response, BbPage[BbBranch])
        return _page(body, [_branch(b) for b in body.values])
