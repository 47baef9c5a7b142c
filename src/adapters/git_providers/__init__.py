from adapters.git_providers.apps import HttpxGitApps
from adapters.git_providers.bitbucket import BitbucketProvider
from adapters.git_providers.bitbucket_threads import BitbucketHooks, BitbucketIssueThreads
from adapters.git_providers.github import GitHubProvider
from adapters.git_providers.github_app import GitHubApp, GitHubIssueThreads
from adapters.git_providers.gitlab import GitLabProvider
from adapters.git_providers.gitlab_threads import GitLabHooks, GitLabIssueThreads
from adapters.git_providers.http import create_http_client
from adapters.git_providers.oauth import HttpxProviderOAuth, OAuthApp
from adapters.git_providers.providers import HttpxGitProviders
from adapters.git_providers.urls import CloudUrls

__all__ = (
    "BitbucketHooks",
    "BitbucketIssueThreads",
    "BitbucketProvider",
    "CloudUrls",
    "GitHubApp",
    "GitHubIssueThreads",
    "GitHubProvider",
    "GitLabHooks",
    "GitLabIssueThreads",
    "GitLabProvider",
    "HttpxGitApps",
    "HttpxGitProviders",
    "HttpxProviderOAuth",
    "OAuthApp",
    "create_http_client",
)
