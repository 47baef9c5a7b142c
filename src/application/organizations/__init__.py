from application.organizations.create_organization import (
    CreateOrganization,
    CreateOrganizationRequest,
)
from application.organizations.get_organization import GetOrganization, GetOrganizationRequest
from application.organizations.list_my_organizations import ListMyOrganizations

__all__ = (
    "CreateOrganization",
    "CreateOrganizationRequest",
    "GetOrganization",
    "GetOrganizationRequest",
    "ListMyOrganizations",
)
