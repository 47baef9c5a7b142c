from application.identity.get_current_user import GetCurrentUser
from application.identity.local_user_authenticator import LocalUserAuthenticator
from application.identity.provision_local_user import ProvisionLocalUser, ProvisionLocalUserRequest
from application.identity.reject_all_authenticator import RejectAllAuthenticator

__all__ = (
    "GetCurrentUser",
    "LocalUserAuthenticator",
    "ProvisionLocalUser",
    "ProvisionLocalUserRequest",
    "RejectAllAuthenticator",
)
