from domain.organizations.entities import Membership, Organization, OrgId, Role
from domain.organizations.errors import (
    InvalidOrgNameError,
    InvalidOrgSlugError,
    OrgNotFoundError,
    OrgSlugTakenError,
)
from domain.organizations.value_objects import OrgName, OrgSlug

__all__ = (
    "InvalidOrgNameError",
    "InvalidOrgSlugError",
    "Membership",
    "OrgId",
    "OrgName",
    "OrgNotFoundError",
    "OrgSlug",
    "OrgSlugTakenError",
    "Organization",
    "Role",
)
