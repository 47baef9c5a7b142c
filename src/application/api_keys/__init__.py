from application.api_keys.create_api_key import (
    CreateApiKey,
    CreateApiKeyRequest,
    CreateApiKeyResult,
)
from application.api_keys.list_api_keys import ListApiKeys, ListApiKeysRequest, ListApiKeysResult
from application.api_keys.revoke_api_key import RevokeApiKey, RevokeApiKeyRequest

__all__ = (
    "CreateApiKey",
    "CreateApiKeyRequest",
    "CreateApiKeyResult",
    "ListApiKeys",
    "ListApiKeysRequest",
    "ListApiKeysResult",
    "RevokeApiKey",
    "RevokeApiKeyRequest",
)
