from application.members.add_member import AddMember, AddMemberRequest, AddMemberResult
from application.members.change_member_role import ChangeMemberRole, ChangeMemberRoleRequest
from application.members.invite_member import InviteMember, InviteMemberRequest, InviteMemberResult
from application.members.list_audit_events import (
    ListAuditEvents,
    ListAuditEventsRequest,
    ListAuditEventsResult,
)
from application.members.list_invitations import (
    ListInvitations,
    ListInvitationsRequest,
    ListInvitationsResult,
)
from application.members.list_members import ListMembers, ListMembersRequest, ListMembersResult
from application.members.pending_invitations import PendingInvitations
from application.members.remove_member import RemoveMember, RemoveMemberRequest
from application.members.revoke_invitation import RevokeInvitation, RevokeInvitationRequest
from application.members.transfer_ownership import TransferOwnership, TransferOwnershipRequest

__all__ = (
    "AddMember",
    "AddMemberRequest",
    "AddMemberResult",
    "ChangeMemberRole",
    "ChangeMemberRoleRequest",
    "InviteMember",
    "InviteMemberRequest",
    "InviteMemberResult",
    "ListAuditEvents",
    "ListAuditEventsRequest",
    "ListAuditEventsResult",
    "ListInvitations",
    "ListInvitationsRequest",
    "ListInvitationsResult",
    "ListMembers",
    "ListMembersRequest",
    "ListMembersResult",
    "PendingInvitations",
    "RemoveMember",
    "RemoveMemberRequest",
    "RevokeInvitation",
    "RevokeInvitationRequest",
    "TransferOwnership",
    "TransferOwnershipRequest",
)
