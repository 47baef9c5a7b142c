from entrypoints.http.repositories.controller import RepositoryController

__all__ = ("RepositoryController",)
