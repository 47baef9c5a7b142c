from entrypoints.http.integrations.controller import AppInstallationController

__all__ = ("AppInstallationController",)
