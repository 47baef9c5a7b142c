from entrypoints.http.resolver.controller import ResolverRepositoryController

__all__ = ("ResolverRepositoryController",)
