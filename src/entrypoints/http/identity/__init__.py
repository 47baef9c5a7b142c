from entrypoints.http.identity.controller import UserController

__all__ = ("UserController",)
