from application.members.accept_invitations import AcceptInvitations
from application.members.add_member import AddMember, AddMemberRequest
from application.members.change_member_role import ChangeMemberRole, ChangeMemberRoleRequest
from application.members.invite_member import InviteMember, InviteMemberRequest
from application.members.list_audit_events import ListAuditEvents, ListAuditEventsRequest
from application.members.list_invitations import ListInvitations, ListInvitationsRequest
from application.members.list_members import ListMembers, ListMembersRequest
from application.members.remove_member import RemoveMember, RemoveMemberRequest
from application.members.revoke_invitation import RevokeInvitation, RevokeInvitationRequest
from application.members.transfer_ownership import TransferOwnership, TransferOwnershipRequest

__all__ = (
    "AcceptInvitations",
    "AddMember",
    "AddMemberRequest",
    "ChangeMemberRole",
    "ChangeMemberRoleRequest",
    "InviteMember",
    "InviteMemberRequest",
    "ListAuditEvents",
    "ListAuditEventsRequest",
    "ListInvitations",
    "ListInvitationsRequest",
    "ListMembers",
    "ListMembersRequest",
    "RemoveMember",
    "RemoveMemberRequest",
    "RevokeInvitation",
    "RevokeInvitationRequest",
    "TransferOwnership",
    "TransferOwnershipRequest",
)
