import httpx

from adapters.git_providers.bitbucket import BitbucketProvider
from adapters.git_providers.github import GitHubProvider
from adapters.git_providers.gitlab import GitLabProvider
from adapters.git_providers.http import repository_segments
from adapters.git_providers.urls import CloudUrls
from application.ports.git_provider import GitInstallations, GitProvider, GitProviders
from domain.git.providers import GitHost, ProviderKind

__all__ = ("HttpxGitProviders",)


class HttpxGitProviders(GitProviders):
    """Opens the adapter of a host's provider over one shared ``httpx.AsyncClient``, which its
    owner closes (opening is cheap: no I/O until a call)."""

    def __init__(self, client: httpx.AsyncClient, cloud_urls: CloudUrls | None = None) -> None:
        self._client = client
        self._urls = cloud_urls or CloudUrls()

    def clone_url(self, host: GitHost, repository: str) -> str:
        segments = repository_segments(
            repository, max_segments=21 if host.kind is ProviderKind.GITLAB else 2
        )
        return f"{self._urls.web_url(host)}/{'/'.join(segments)}.git"

    def _github(self, host: GitHost, access_token: str) -> GitHubProvider:
        return GitHubProvider(
            self._client,
            host,
            api_url=self._urls.api_url(host),
            graphql_url=self._urls.graphql_url(host),
            token=access_token,
        )

    def installations(self, host: GitHost, access_token: str) -> GitInstallations | None:
        if host.kind is ProviderKind.GITHUB:
            return self._github(host, access_token)
        return None

    def open(self, host: GitHost, access_token: str) -> GitProvider:
        api_url = self._urls.api_url(host)
        match host.kind:
            case ProviderKind.GITHUB:
                return self._github(host, access_token)
            case ProviderKind.GITLAB:
                return GitLabProvider(self._client, host, api_url=api_url, token=access_token)
            case ProviderKind.BITBUCKET:
                return BitbucketProvider(self._client, host, api_url=api_url, token=access_token)
