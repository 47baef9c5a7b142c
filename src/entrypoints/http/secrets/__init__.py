from entrypoints.http.secrets.controller import SecretController

__all__ = ("SecretController",)
