from entrypoints.http.usage.controller import (
    MemberCapController,
    OrgUsageController,
    UserUsageController,
)

__all__ = ("MemberCapController", "OrgUsageController", "UserUsageController")
