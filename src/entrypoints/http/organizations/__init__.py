from entrypoints.http.organizations.controller import OrganizationController

__all__ = ("OrganizationController",)
