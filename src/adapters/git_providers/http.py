"""What the three provider adapters share: one way to call a host and read its answer, the
mapping of HTTP failures to the port's errors, and the checks on input that ends up in a URL."""

import re
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import httpx
import msgspec

from application.errors import DependencyUnavailableError
from domain.git.errors import ProviderReconnectRequiredError
from domain.git.providers import GitHost, ProviderKind
from domain.shared.errors import InvalidValueError, NotFoundError

__all__ = (
    "ProviderHttp",
    "bounded_per_page",
    "checked_page",
    "checked_query",
    "contains",
    "create_http_client",
    "page_param",
    "repository_segments",
)

T = TypeVar("T")

MAX_PER_PAGE = 100
_MAX_QUERY = 200
_SEGMENT = re.compile(r"[A-Za-z0-9_.-]{1,100}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_NAMES = {
    ProviderKind.GITHUB: "GitHub",
    ProviderKind.GITLAB: "GitLab",
    ProviderKind.BITBUCKET: "Bitbucket",
}


def create_http_client(
    *, timeout_s: float = 10.0, connect_timeout_s: float = 5.0
) -> httpx.AsyncClient:
    """The one client the git adapters share: bounded timeouts and pool, no redirects followed
    unless a call asks (httpx then drops the Authorization header on a cross-origin hop)."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout_s, connect=connect_timeout_s),
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
        headers={"User-Agent": "maestrist-enterprise-server"},
    )


def provider_name(host: GitHost) -> str:
    name = _NAMES[host.kind]
    return name if host.is_cloud else f"{name} at {urlsplit(host.web_url).hostname}"


def repository_segments(full_name: str, *, max_segments: int) -> list[str]:
    """The segments of a repository's full name, each a plain name: no empty, ``.`` or ``..``
    segment and nothing (``?``, ``#``, ``%``, spaces) that could change the URL it goes into."""
    segments = full_name.split("/")
    if not 2 <= len(segments) <= max_segments or any(
        not _SEGMENT.fullmatch(s) or s in {".", ".."} for s in segments
    ):
        raise InvalidValueError(
            f"Not a repository name: {full_name[:100]!r}; expected owner/name.",
            field="repository",
        )
    return segments


def checked_query(query: str, *, field: str = "query") -> str:
    """A search text: trimmed, 1 to 200 characters, no control characters."""
    text = query.strip()
    if not text or len(text) > _MAX_QUERY or _CONTROL.search(text):
        raise InvalidValueError(
            f"The search text must be 1 to {_MAX_QUERY} printable characters.", field=field
        )
    return text


def checked_page(page: int) -> int:
    if page < 1:
        raise InvalidValueError("Pages are numbered from 1.", field="page")
    return page


def bounded_per_page(per_page: int) -> int:
    """Providers serve at most 100 items a page; ask for 1 to 100."""
    return max(1, min(MAX_PER_PAGE, per_page))


def contains(name: str, query: str) -> bool:
    return query.lower() in name.lower()


def page_param(url: str | None) -> int | None:
    """The ``page`` query parameter of a next-page link."""
    if not url:
        return None
    values = parse_qs(urlsplit(url).query).get("page")
    if not values or not values[0].isdigit():
        return None
    return int(values[0])


class ProviderHttp:
    """Calls one host's API with one user's token and maps what goes wrong to the port's errors.

    401 (and GitHub's "Bad credentials") is ``ProviderReconnectRequiredError``; 403 with a spent
    rate limit, 429, 5xx, network failures, timeouts and unreadable bodies are
    ``DependencyUnavailableError``; 404 (and any other 403 on a repository) is
    ``NotFoundError``. Messages name the provider, never the token, and nothing is logged.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        host: GitHost,
        *,
        api_url: str,
        headers: dict[str, str],
    ) -> None:
        self._client = client
        self.host = host
        self.name = provider_name(host)
        self.api_url = api_url
        self._headers = headers

    async def get(
        self,
        path: str,
        params: dict[str, Any] | None = None,
        *,
        repository: str | None = None,
        not_found_field: str = "repository",
    ) -> httpx.Response:
        return await self.send(
            "GET",
            f"{self.api_url}{path}",
            params=params,
            repository=repository,
            not_found_field=not_found_field,
        )

    async def send(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        repository: str | None = None,
        not_found_field: str = "repository",
        allowed: frozenset[int] = frozenset(),
    ) -> httpx.Response:
        """The answer; one whose status is in ``allowed`` is returned, not checked."""
        try:
            response = await self._client.request(
                method,
                url,
                params=params,
                json=json,
                headers=self._headers,
                follow_redirects=method == "GET",
            )
        except httpx.TimeoutException:
            raise DependencyUnavailableError(f"{self.name} did not answer in time.") from None
        except httpx.HTTPError:
            raise DependencyUnavailableError(f"{self.name} cannot be reached.") from None
        if response.status_code not in allowed:
            self.check(response, repository=repository, not_found_field=not_found_field)
        return response

    def check(
        self, response: httpx.Response, *, repository: str | None, not_found_field: str
    ) -> None:
        status = response.status_code
        if 200 <= status < 300:
            return
        if status == 401 or _says_bad_credentials(response):
            raise ProviderReconnectRequiredError(self.host.kind, f"{self.name} answered {status}")
        if status == 429 or (status == 403 and _rate_limited(response)):
            raise DependencyUnavailableError(
                f"{self.name}'s rate limit is spent for now; try again later."
            )
        if status == 404 or (status == 403 and repository is not None):
            what = f"repository {repository!r}" if repository else "resource"
            raise NotFoundError(f"{self.name} has no {what} you can see.", field=not_found_field)
        if status == 403:
            raise ProviderReconnectRequiredError(
                self.host.kind, f"{self.name} refused the token access"
            )
        if status >= 500:
            raise DependencyUnavailableError(f"{self.name} failed ({status}); try again shortly.")
        raise DependencyUnavailableError(f"{self.name} refused the request ({status}).")

    def decode(self, response: httpx.Response, type_: type[T]) -> T:
        try:
            return msgspec.json.decode(response.content, type=type_)
        except msgspec.DecodeError:
            raise DependencyUnavailableError(f"{self.name} sent an unreadable answer.") from None


def _says_bad_credentials(response: httpx.Response) -> bool:
    if response.status_code not in (400, 403):
        return False
    return b'"Bad credentials"' in response.content[:500]


def _rate_limited(response: httpx.Response) -> bool:
    headers = response.headers
    return headers.get("x-ratelimit-remaining") == "0" or "retry-after" in headers
