from entrypoints.http.members.controller import MemberController
from entrypoints.http.members.invitations import InvitationController

__all__ = ("InvitationController", "MemberController")
