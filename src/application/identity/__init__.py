from application.identity.api_key_authenticator import ApiKeyAuthenticator
from application.identity.get_current_user import (
    GetCurrentUser,
    GetCurrentUserRequest,
    GetCurrentUserResult,
)
from application.identity.local_user_authenticator import LocalUserAuthenticator
from application.identity.provision_local_user import (
    ProvisionLocalUser,
    ProvisionLocalUserRequest,
    ProvisionLocalUserResult,
)

__all__ = (
    "ApiKeyAuthenticator",
    "GetCurrentUser",
    "GetCurrentUserRequest",
    "GetCurrentUserResult",
    "LocalUserAuthenticator",
    "ProvisionLocalUser",
    "ProvisionLocalUserRequest",
    "ProvisionLocalUserResult",
)
