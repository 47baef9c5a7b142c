from dataclasses import replace
from datetime import datetime

from domain.identity.entities import UserId
from domain.identity.sessions import Session, SessionId
from domain.ports.session_repository import SessionRepository
from domain.shared.errors import ConflictError
from tests.fakes.store import FakeStore


class FakeSessionRepository(SessionRepository):
    def __init__(self, store: FakeStore) -> None:
        self._store = store

    async def add(self, session: Session) -> None:
        sessions = self._store.live.sessions
        if any(s.token_hash == session.token_hash for s in sessions.values()):
            raise ConflictError("duplicate session token")
        sessions[session.id_] = session

    async def get_by_token_hash(self, token_hash: str) -> Session | None:
        return next(
            (s for s in self._store.live.sessions.values() if s.token_hash == token_hash), None
        )

    async def get_for_user(self, session_id: SessionId, user_id: UserId) -> Session | None:
        found = self._store.live.sessions.get(session_id)
        return found if found is not None and found.user_id == user_id else None

    async def list_live(self, user_id: UserId, now: datetime) -> list[Session]:
        live = [
            s for s in self._store.live.sessions.values() if s.user_id == user_id and s.is_live(now)
        ]
        return sorted(live, key=lambda s: (s.created_at, s.id_), reverse=True)

    async def save(self, session: Session) -> None:
        stored = self._store.live.sessions.get(session.id_)
        if stored is None:
            raise LookupError(f"session {session.id_} was never added")
        self._store.live.sessions[session.id_] = replace(
            stored,
            tokens=session.tokens,
            last_seen_at=session.last_seen_at,
            expires_at=session.expires_at,
            revoked_at=session.revoked_at,
        )

    async def revoke_all(self, user_id: UserId, now: datetime) -> list[Session]:
        live = await self.list_live(user_id, now)
        for session in live:
            await self.save(session.revoked(now))
        return live
