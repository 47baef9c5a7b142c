from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import NewType
from uuid import UUID

from domain.identity.entities import UserId
from domain.identity.value_objects import EmailAddress
from domain.organizations.entities import OrgId, Role
from domain.organizations.errors import InvitationNotPendingError
from domain.shared.errors import PermissionDeniedError
from domain.shared.ids import new_id

__all__ = ("INVITATION_TTL", "Invitation", "InvitationId", "InvitationStatus")

InvitationId = NewType("InvitationId", UUID)

INVITATION_TTL = timedelta(days=14)
"""How long an invitation waits for its person to sign in."""


class InvitationStatus(StrEnum):
    PENDING = "pending"
    EXPIRED = "expired"
    ACCEPTED = "accepted"
    REVOKED = "revoked"


@dataclass(kw_only=True, eq=False)
class Invitation:
    """A place in an organization kept for an email address until its owner signs in.

    It is open until accepted or revoked, and pending while open and not yet expired. An
    organization has at most one open invitation per address (compared without case).
    """

    id_: InvitationId
    org_id: OrgId
    email: EmailAddress
    role: Role
    invited_by: UserId
    created_at: datetime
    expires_at: datetime
    accepted_at: datetime | None = None
    revoked_at: datetime | None = None

    @classmethod
    def issue(
        cls,
        *,
        org_id: OrgId,
        email: EmailAddress,
        role: Role,
        invited_by: UserId,
        now: datetime,
        ttl: timedelta = INVITATION_TTL,
    ) -> "Invitation":
        if role is Role.OWNER:
            raise PermissionDeniedError(
                "An organization has one owner; invite as admin or member, then transfer."
            )
        return cls(
            id_=InvitationId(new_id()),
            org_id=org_id,
            email=email,
            role=role,
            invited_by=invited_by,
            created_at=now,
            expires_at=now + ttl,
        )

    @property
    def email_key(self) -> str:
        """The address as invitations are matched: without case, like users are found."""
        return self.email.value.lower()

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None

    def status(self, now: datetime) -> InvitationStatus:
        if self.accepted_at is not None:
            return InvitationStatus.ACCEPTED
        if self.revoked_at is not None:
            return InvitationStatus.REVOKED
        return InvitationStatus.PENDING if now < self.expires_at else InvitationStatus.EXPIRED

    def accept(self, now: datetime) -> None:
        if self.status(now) is not InvitationStatus.PENDING:
            raise InvitationNotPendingError
        self.accepted_at = now

    def revoke(self, now: datetime) -> None:
        """Close an open invitation, expired or not; an accepted or revoked one stays as is."""
        if not self.is_open:
            raise InvitationNotPendingError
        self.revoked_at = now

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Invitation) and other.id_ == self.id_

    def __hash__(self) -> int:
        return hash(self.id_)
