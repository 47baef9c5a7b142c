from application.git.connect_git_provider import (
    ConnectGitProvider,
    ConnectGitProviderRequest,
    SelfHostedGitPolicy,
)
from application.git.connections import GitConnection
from application.git.disconnect_git_provider import DisconnectGitProvider
from application.git.get_git_account import GetGitAccount
from application.git.get_provider_token import GetProviderToken, ProviderTokenPolicy
from application.git.list_git_connections import ListGitConnections

__all__ = (
    "ConnectGitProvider",
    "ConnectGitProviderRequest",
    "DisconnectGitProvider",
    "GetGitAccount",
    "GetProviderToken",
    "GitConnection",
    "ListGitConnections",
    "ProviderTokenPolicy",
    "SelfHostedGitPolicy",
)
