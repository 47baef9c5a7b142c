from dataclasses import dataclass
from urllib.parse import urlsplit

from domain.git.providers import GitHost, ProviderKind

__all__ = ("CloudUrls",)

_GITHUB = "https://github.com"
_BITBUCKET = "https://bitbucket.org"


def _web(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
        raise ValueError(f"not an http(s) base URL: {url!r}")
    return url.rstrip("/")


@dataclass(frozen=True, slots=True, kw_only=True)
class CloudUrls:
    """The web URLs of the public clouds. A host with a ``base_url`` (GitHub Enterprise,
    self-managed GitLab) is found there instead; tests point the clouds at loopback fakes.

    From a web URL: GitHub's API is ``https://api.github.com`` for github.com itself, else
    ``{web}/api/v3`` (GraphQL ``{web}/api/graphql``); GitLab's ``{web}/api/v4``; Bitbucket's
    ``https://api.bitbucket.org/2.0`` for bitbucket.org itself, else ``{web}/!api/2.0`` (an
    alias bitbucket.org serves too). Token endpoints hang off the web URL.
    """

    github: str = _GITHUB
    gitlab: str = "https://gitlab.com"
    bitbucket: str = _BITBUCKET

    def __post_init__(self) -> None:
        for name in ("github", "gitlab", "bitbucket"):
            object.__setattr__(self, name, _web(getattr(self, name)))

    def web_url(self, host: GitHost) -> str:
        if host.base_url is not None:
            return host.base_url
        match host.kind:
            case ProviderKind.GITHUB:
                return self.github
            case ProviderKind.GITLAB:
                return self.gitlab
            case ProviderKind.BITBUCKET:
                return self.bitbucket

    def api_url(self, host: GitHost) -> str:
        web = self.web_url(host)
        match host.kind:
            case ProviderKind.GITHUB:
                return "https://api.github.com" if web == _GITHUB else f"{web}/api/v3"
            case ProviderKind.GITLAB:
                return f"{web}/api/v4"
            case ProviderKind.BITBUCKET:
                return "https://api.bitbucket.org/2.0" if web == _BITBUCKET else f"{web}/!api/2.0"

    def graphql_url(self, host: GitHost) -> str:
        """GitHub's GraphQL endpoint (github.com, or ``/api/graphql`` on Enterprise)."""
        web = self.web_url(host)
        return "https://api.github.com/graphql" if web == _GITHUB else f"{web}/api/graphql"

    def token_url(self, host: GitHost) -> str:
        web = self.web_url(host)
        match host.kind:
            case ProviderKind.GITHUB:
                return f"{web}/login/oauth/access_token"
            case ProviderKind.GITLAB:
                return f"{web}/oauth/token"
            case ProviderKind.BITBUCKET:
                return f"{web}/site/oauth2/access_token"
