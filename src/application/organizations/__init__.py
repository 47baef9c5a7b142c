from application.organizations.create_organization import (
    CreateOrganization,
    CreateOrganizationRequest,
)
from application.organizations.get_organization import GetOrganization, GetOrganizationRequest
from application.organizations.list_my_organizations import ListMyOrganizations
from application.organizations.resolve_active_org import ResolveActiveOrg, ResolveActiveOrgRequest

__all__ = (
    "CreateOrganization",
    "CreateOrganizationRequest",
    "GetOrganization",
    "GetOrganizationRequest",
    "ListMyOrganizations",
    "ResolveActiveOrg",
    "ResolveActiveOrgRequest",
)
