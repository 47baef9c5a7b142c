from entrypoints.http.resolver.controller import (
    ResolverRepositoryController,
    ResolverSettingsController,
)

__all__ = ("ResolverRepositoryController", "ResolverSettingsController")
