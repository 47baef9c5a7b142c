from application.sessions.get_current_session import GetCurrentSession
from application.sessions.list_sessions import ListSessions
from application.sessions.revoke_session import RevokeSession, RevokeSessionRequest
from application.sessions.sign_out import SignOut, SignOutRequest, SignOutResult

__all__ = (
    "GetCurrentSession",
    "ListSessions",
    "RevokeSession",
    "RevokeSessionRequest",
    "SignOut",
    "SignOutRequest",
    "SignOutResult",
)
