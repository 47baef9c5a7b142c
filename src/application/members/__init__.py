from application.members.add_member import AddMember, AddMemberRequest
from application.members.change_member_role import ChangeMemberRole, ChangeMemberRoleRequest
from application.members.list_audit_events import ListAuditEvents, ListAuditEventsRequest
from application.members.list_members import ListMembers, ListMembersRequest
from application.members.remove_member import RemoveMember, RemoveMemberRequest
from application.members.transfer_ownership import TransferOwnership, TransferOwnershipRequest

__all__ = (
    "AddMember",
    "AddMemberRequest",
    "ChangeMemberRole",
    "ChangeMemberRoleRequest",
    "ListAuditEvents",
    "ListAuditEventsRequest",
    "ListMembers",
    "ListMembersRequest",
    "RemoveMember",
    "RemoveMemberRequest",
    "TransferOwnership",
    "TransferOwnershipRequest",
)
