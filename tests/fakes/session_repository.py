from dataclasses import replace
from datetime import datetime

from application.errors import DependencyUnavailableError
from application.ports.cipher import Cipher, CipherError
from application.ports.session_repository import SessionRepository
from domain.identity.entities import UserId
from domain.identity.sessions import ProviderTokens, Session, SessionId
from domain.shared.errors import ConflictError
from tests.fakes.store import FakeStore


def _context(session_id: SessionId, field: str) -> str:
    """The same binding as the SQL adapter's ``session_context``: the row and the field."""
    return f"session:{session_id}:{field}"


class FakeSessionRepository(SessionRepository):
    """Sessions in the FakeStore's ``sessions`` table.

    Given a cipher, the stored rows hold the provider tokens sealed, each bound to its session
    and field as the SQL adapter binds them, and ``stored()`` shows them as a database would;
    a row the cipher cannot open is ``DependencyUnavailableError``. Without one, the rows hold
    the tokens as they are (what use-case tests inspect through ``FakeStore``).
    """

    def __init__(self, store: FakeStore, cipher: Cipher | None = None) -> None:
        self._store = store
        self._cipher = cipher

    def stored(self) -> list[Session]:
        """The rows as this transaction sees them, tokens sealed if there is a cipher."""
        return list(self._store.live.sessions.values())

    def _seal_value(self, session_id: SessionId, field: str, value: str | None) -> str | None:
        if value is None or self._cipher is None:
            return value
        return self._cipher.encrypt(value, context=_context(session_id, field))

    def _open_value(self, session_id: SessionId, field: str, value: str | None) -> str | None:
        if value is None or self._cipher is None:
            return value
        try:
            return self._cipher.decrypt(value, context=_context(session_id, field))
        except CipherError as exc:
            raise DependencyUnavailableError(
                "Stored secrets cannot be opened with the configured encryption keys."
            ) from exc

    def _seal(self, session: Session) -> Session:
        tokens = session.tokens
        access = self._seal_value(session.id_, "access", tokens.access_token)
        assert access is not None
        return replace(
            session,
            tokens=replace(
                tokens,
                access_token=access,
                refresh_token=self._seal_value(session.id_, "refresh", tokens.refresh_token),
                id_token=self._seal_value(session.id_, "id", tokens.id_token),
            ),
        )

    def _open(self, row: Session) -> Session:
        tokens = row.tokens
        access = self._open_value(row.id_, "access", tokens.access_token)
        assert access is not None
        return replace(
            row,
            tokens=ProviderTokens(
                access_token=access,
                access_expires_at=tokens.access_expires_at,
                refresh_token=self._open_value(row.id_, "refresh", tokens.refresh_token),
                refresh_expires_at=tokens.refresh_expires_at,
                id_token=self._open_value(row.id_, "id", tokens.id_token),
            ),
        )

    async def add(self, session: Session) -> None:
        sessions = self._store.live.sessions
        if session.id_ in sessions or any(
            s.token_hash == session.token_hash for s in sessions.values()
        ):
            raise ConflictError("duplicate session")
        sessions[session.id_] = self._seal(session)

    async def get_by_token_hash(self, token_hash: str) -> Session | None:
        found = next(
            (s for s in self._store.live.sessions.values() if s.token_hash == token_hash), None
        )
        return None if found is None else self._open(found)

    async def get_for_user(self, session_id: SessionId, user_id: UserId) -> Session | None:
        found = self._store.live.sessions.get(session_id)
        return self._open(found) if found is not None and found.user_id == user_id else None

    async def list_live(self, user_id: UserId, now: datetime) -> list[Session]:
        live = [
            s for s in self._store.live.sessions.values() if s.user_id == user_id and s.is_live(now)
        ]
        live.sort(key=lambda s: (s.created_at, s.id_), reverse=True)
        return [self._open(s) for s in live]

    async def save(self, session: Session) -> None:
        """Like the SQL adapter: tokens, expiry, last-seen time and revocation only."""
        stored = self._store.live.sessions.get(session.id_)
        if stored is None:
            raise LookupError(f"session {session.id_} was never added")
        self._store.live.sessions[session.id_] = replace(
            stored,
            tokens=self._seal(session).tokens,
            last_seen_at=session.last_seen_at,
            expires_at=session.expires_at,
            revoked_at=session.revoked_at,
        )

    async def revoke_all(self, user_id: UserId, now: datetime) -> list[Session]:
        live = await self.list_live(user_id, now)
        for session in live:
            await self.save(session.revoked(now))
        return live
