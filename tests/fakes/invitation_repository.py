import copy

from application.ports.invitation_repository import InvitationRepository
from domain.identity.value_objects import EmailAddress
from domain.organizations.entities import OrgId
from domain.organizations.errors import InvitationAlreadyPendingError
from domain.organizations.invitations import Invitation, InvitationId
from tests.fakes.store import FakeStore


class FakeInvitationRepository(InvitationRepository):
    """Hands out copies, as a database does: a change counts only once saved."""

    def __init__(self, store: FakeStore) -> None:
        self._store = store

    def _open(self) -> list[Invitation]:
        return [i for i in self._store.live.invitations.values() if i.is_open]

    async def add(self, invitation: Invitation) -> None:
        key = (invitation.org_id, invitation.email_key)
        if invitation.is_open and any((i.org_id, i.email_key) == key for i in self._open()):
            raise InvitationAlreadyPendingError
        self._store.live.invitations[invitation.id_] = copy.copy(invitation)

    async def get(self, org_id: OrgId, invitation_id: InvitationId) -> Invitation | None:
        found = self._store.live.invitations.get(invitation_id)
        return copy.copy(found) if found is not None and found.org_id == org_id else None

    async def find_open(self, org_id: OrgId, email: EmailAddress) -> Invitation | None:
        key = (org_id, email.value.lower())
        found = next((i for i in self._open() if (i.org_id, i.email_key) == key), None)
        return copy.copy(found)

    async def list_open(self, org_id: OrgId) -> list[Invitation]:
        found = [copy.copy(i) for i in self._open() if i.org_id == org_id]
        return sorted(found, key=lambda i: (i.created_at, i.id_), reverse=True)

    async def list_open_for_email(self, email: EmailAddress) -> list[Invitation]:
        found = [copy.copy(i) for i in self._open() if i.email_key == email.value.lower()]
        return sorted(found, key=lambda i: (i.created_at, i.id_))

    async def save(self, invitation: Invitation) -> None:
        if invitation.id_ not in self._store.live.invitations:
            raise LookupError(f"invitation {invitation.id_} was never added")
        self._store.live.invitations[invitation.id_] = copy.copy(invitation)
