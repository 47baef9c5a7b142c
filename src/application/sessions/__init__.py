from application.sessions.list_sessions import ListSessions
from application.sessions.revoke_session import RevokeSession, RevokeSessionRequest
from application.sessions.sign_out import SignOut, SignOutRequest, SignOutResult

__all__ = (
    "ListSessions",
    "RevokeSession",
    "RevokeSessionRequest",
    "SignOut",
    "SignOutRequest",
    "SignOutResult",
)
