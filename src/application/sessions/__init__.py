from application.sessions.get_current_session import (
    GetCurrentSession,
    GetCurrentSessionRequest,
    GetCurrentSessionResult,
)
from application.sessions.list_sessions import ListSessions, ListSessionsRequest, ListSessionsResult
from application.sessions.revoke_session import RevokeSession, RevokeSessionRequest
from application.sessions.session_endings import SessionEndings
from application.sessions.sign_out import SignOut, SignOutRequest, SignOutResult

__all__ = (
    "GetCurrentSession",
    "GetCurrentSessionRequest",
    "GetCurrentSessionResult",
    "ListSessions",
    "ListSessionsRequest",
    "ListSessionsResult",
    "RevokeSession",
    "RevokeSessionRequest",
    "SessionEndings",
    "SignOut",
    "SignOutRequest",
    "SignOutResult",
)
