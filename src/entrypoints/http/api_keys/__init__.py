from entrypoints.http.api_keys.controller import ApiKeyController

__all__ = ("ApiKeyController",)
