from application.git.connect_git_provider import (
    ConnectGitProvider,
    ConnectGitProviderRequest,
    ConnectGitProviderResult,
    SelfHostedGitPolicy,
)
from application.git.connections import GitConnection
from application.git.disconnect_git_provider import (
    DisconnectGitProvider,
    DisconnectGitProviderRequest,
)
from application.git.exchange_runtime_git_credential import (
    ExchangeRuntimeGitCredential,
    ExchangeRuntimeGitCredentialRequest,
    ExchangeRuntimeGitCredentialResult,
)
from application.git.get_git_account import (
    GetGitAccount,
    GetGitAccountRequest,
    GetGitAccountResult,
)
from application.git.list_branches import ListBranches, ListBranchesRequest, ListBranchesResult
from application.git.list_git_connections import (
    ListGitConnections,
    ListGitConnectionsRequest,
    ListGitConnectionsResult,
)
from application.git.list_installations import (
    ListInstallations,
    ListInstallationsRequest,
    ListInstallationsResult,
)
from application.git.list_repositories import (
    ListRepositories,
    ListRepositoriesRequest,
    ListRepositoriesResult,
)
from application.git.provider_tokens import ProviderTokenPolicy, ProviderTokens
from application.git.repository_queries import BranchQuery, RepositoryQuery
from application.git.runtime_credentials import RuntimeGitCredentials
from application.git.search_branches import (
    SearchBranches,
    SearchBranchesRequest,
    SearchBranchesResult,
)
from application.git.search_repositories import (
    SearchRepositories,
    SearchRepositoriesRequest,
    SearchRepositoriesResult,
)

__all__ = (
    "BranchQuery",
    "ConnectGitProvider",
    "ConnectGitProviderRequest",
    "ConnectGitProviderResult",
    "DisconnectGitProvider",
    "DisconnectGitProviderRequest",
    "ExchangeRuntimeGitCredential",
    "ExchangeRuntimeGitCredentialRequest",
    "ExchangeRuntimeGitCredentialResult",
    "GetGitAccount",
    "GetGitAccountRequest",
    "GetGitAccountResult",
    "GitConnection",
    "ListBranches",
    "ListBranchesRequest",
    "ListBranchesResult",
    "ListGitConnections",
    "ListGitConnectionsRequest",
    "ListGitConnectionsResult",
    "ListInstallations",
    "ListInstallationsRequest",
    "ListInstallationsResult",
    "ListRepositories",
    "ListRepositoriesRequest",
    "ListRepositoriesResult",
    "ProviderTokenPolicy",
    "ProviderTokens",
    "RepositoryQuery",
    "RuntimeGitCredentials",
    "SearchBranches",
    "SearchBranchesRequest",
    "SearchBranchesResult",
    "SearchRepositories",
    "SearchRepositoriesRequest",
    "SearchRepositoriesResult",
    "SelfHostedGitPolicy",
)
