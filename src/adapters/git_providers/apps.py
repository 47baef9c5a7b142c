import httpx

from adapters.git_providers.bitbucket_threads import BitbucketHooks, BitbucketIssueThreads
from adapters.git_providers.github_app import GitHubApp, GitHubIssueThreads
from adapters.git_providers.gitlab_threads import GitLabHooks, GitLabIssueThreads
from adapters.git_providers.urls import CloudUrls
from application.ports.git_app import GitApp, GitApps, IssueThreads, RepositoryHooks
from domain.git.providers import GitHost, ProviderKind

__all__ = ("HttpxGitApps",)


class HttpxGitApps(GitApps):
    """The GitHub App when one is configured, and the threads and webhooks of every provider,
    over the shared ``httpx.AsyncClient``."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        github: GitHubApp | None,
        cloud_urls: CloudUrls | None = None,
    ) -> None:
        self._client = client
        self._github = github
        self._urls = cloud_urls or CloudUrls()

    def app(self, provider: ProviderKind) -> GitApp | None:
        return self._github if provider is ProviderKind.GITHUB else None

    def threads(self, host: GitHost, token: str) -> IssueThreads:
        api_url = self._urls.api_url(host)
        match host.kind:
            case ProviderKind.GITHUB:
                return GitHubIssueThreads(self._client, host, api_url=api_url, token=token)
            case ProviderKind.GITLAB:
                return GitLabIssueThreads(self._client, host, api_url=api_url, token=token)
            case ProviderKind.BITBUCKET:
                return BitbucketIssueThreads(self._client, host, api_url=api_url, token=token)

    def hooks(self, host: GitHost, token: str) -> RepositoryHooks:
        api_url = self._urls.api_url(host)
        match host.kind:
            case ProviderKind.GITHUB:
                raise NotImplementedError("GitHub's webhooks come with its app")
            case ProviderKind.GITLAB:
                return GitLabHooks(self._client, host, api_url=api_url, token=token)
            case ProviderKind.BITBUCKET:
                return BitbucketHooks(self._client, host, api_url=api_url, token=token)
