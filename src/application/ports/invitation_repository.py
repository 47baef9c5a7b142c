from abc import abstractmethod
from typing import Protocol

from domain.identity.value_objects import EmailAddress
from domain.organizations.entities import OrgId
from domain.organizations.invitations import Invitation, InvitationId

__all__ = ("InvitationRepository",)


class InvitationRepository(Protocol):
    """Invitations to organizations. Reads are scoped by organization, except the one lookup
    by email that sign-in makes. Transactional: the unit of work commits."""

    @abstractmethod
    async def add(self, invitation: Invitation) -> None:
        """Stage a new invitation. Raises ``InvitationAlreadyPendingError`` when the
        organization has an open one for the same address, whatever its case."""

    @abstractmethod
    async def get(self, org_id: OrgId, invitation_id: InvitationId) -> Invitation | None:
        """The invitation if it belongs to ``org_id``, else ``None``."""

    @abstractmethod
    async def find_open(self, org_id: OrgId, email: EmailAddress) -> Invitation | None:
        """The open (neither accepted nor revoked) invitation of ``org_id`` for ``email``."""

    @abstractmethod
    async def list_open(self, org_id: OrgId) -> list[Invitation]:
        """The open invitations of ``org_id``, expired ones included, newest first."""

    @abstractmethod
    async def list_open_for_email(self, email: EmailAddress) -> list[Invitation]:
        """The open invitations of every organization for ``email``, oldest first, held until
        the unit of work ends: sign-ins accepting them at once take turns, and the later ones
        find them accepted."""

    @abstractmethod
    async def save(self, invitation: Invitation) -> None:
        """Store the acceptance or revocation of an added invitation."""
