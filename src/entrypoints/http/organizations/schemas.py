from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec

from application.ports.org_repository import MemberOrganization
from domain.organizations.entities import Role

__all__ = ("OrgCreate", "OrgList", "OrgOut")


class OrgCreate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(description="1 to 100 characters.", examples=["Acme"])]
    slug: Annotated[
        str | None,
        msgspec.Meta(
            description="2 to 48 of a-z, 0-9 and single hyphens; derived from the name if absent.",
            examples=["acme"],
        ),
    ] = None


class OrgOut(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    id: UUID
    name: str
    slug: str
    role: Role
    created_by: UUID
    created_at: datetime
    personal: bool

    @classmethod
    def from_view(cls, view: MemberOrganization) -> "OrgOut":
        org = view.organization
        return cls(
            id=org.id_,
            name=org.name.value,
            slug=org.slug.value,
            role=view.role,
            created_by=org.created_by,
            created_at=org.created_at,
            personal=org.is_personal,
        )


class OrgList(msgspec.Struct, frozen=True, kw_only=True):
    items: list[OrgOut]
