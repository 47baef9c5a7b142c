from application.organizations.active_org import ActiveOrgResolver
from application.organizations.create_organization import (
    CreateOrganization,
    CreateOrganizationRequest,
    CreateOrganizationResult,
)
from application.organizations.get_organization import (
    GetOrganization,
    GetOrganizationRequest,
    GetOrganizationResult,
)
from application.organizations.list_my_organizations import (
    ListMyOrganizations,
    ListMyOrganizationsRequest,
    ListMyOrganizationsResult,
)

__all__ = (
    "ActiveOrgResolver",
    "CreateOrganization",
    "CreateOrganizationRequest",
    "CreateOrganizationResult",
    "GetOrganization",
    "GetOrganizationRequest",
    "GetOrganizationResult",
    "ListMyOrganizations",
    "ListMyOrganizationsRequest",
    "ListMyOrganizationsResult",
)
