from entrypoints.http.members.controller import MemberController

__all__ = ("MemberController",)
