from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sqlalchemy.errors import translate_db_errors
from adapters.sqlalchemy.models import SessionRow
from application.errors import DependencyUnavailableError
from application.ports.cipher import Cipher, CipherError
from application.ports.session_repository import SessionRepository
from domain.identity.entities import UserId
from domain.identity.sessions import ProviderTokens, Session, SessionId

__all__ = ("SqlaSessionRepository", "session_context")


UNOPENABLE = "Stored secrets cannot be opened with the configured encryption keys."


def session_context(session_id: object, field: str) -> str:
    """What a sealed session token is bound to: its row and its field."""
    return f"session:{session_id}:{field}"


class SqlaSessionRepository(SessionRepository):
    """Sessions with their provider tokens sealed by the cipher, each bound to its row."""

    def __init__(self, session: AsyncSession, cipher: Cipher) -> None:
        self._session = session
        self._cipher = cipher

    def _seal(self, session_id: SessionId, field: str, value: str | None) -> str | None:
        if value is None:
            return None
        return self._cipher.encrypt(value, context=session_context(session_id, field))

    def _open(self, session_id: SessionId, field: str, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return self._cipher.decrypt(value, context=session_context(session_id, field))
        except CipherError as exc:
            raise DependencyUnavailableError(UNOPENABLE) from exc

    def _to_entity(self, row: SessionRow) -> Session:
        session_id = SessionId(row.id)
        access = self._open(session_id, "access", row.access_token)
        assert access is not None
        return Session(
            id_=session_id,
            user_id=UserId(row.user_id),
            token_hash=row.token_hash,
            tokens=ProviderTokens(
                access_token=access,
                access_expires_at=row.access_expires_at,
                refresh_token=self._open(session_id, "refresh", row.refresh_token),
                refresh_expires_at=row.refresh_expires_at,
                id_token=self._open(session_id, "id", row.id_token),
            ),
            created_at=row.created_at,
            last_seen_at=row.last_seen_at,
            expires_at=row.expires_at,
            identity_provider=row.identity_provider,
            user_agent=row.user_agent,
            revoked_at=row.revoked_at,
        )

    def _write(self, row: SessionRow, session: Session) -> None:
        tokens = session.tokens
        row.access_token = self._seal(session.id_, "access", tokens.access_token) or ""
        row.refresh_token = self._seal(session.id_, "refresh", tokens.refresh_token)
        row.id_token = self._seal(session.id_, "id", tokens.id_token)
        row.access_expires_at = tokens.access_expires_at
        row.refresh_expires_at = tokens.refresh_expires_at
        row.last_seen_at = session.last_seen_at
        row.expires_at = session.expires_at
        row.revoked_at = session.revoked_at

    async def add(self, session: Session) -> None:
        row = SessionRow(
            id=session.id_,
            user_id=session.user_id,
            token_hash=session.token_hash,
            created_at=session.created_at,
            identity_provider=session.identity_provider,
            user_agent=session.user_agent,
        )
        self._write(row, session)
        async with translate_db_errors():
            self._session.add(row)
            await self._session.flush()

    async def get_by_token_hash(self, token_hash: str) -> Session | None:
        query = select(SessionRow).where(SessionRow.token_hash == token_hash)
        async with translate_db_errors():
            row = await self._session.scalar(query)
        return None if row is None else self._to_entity(row)

    async def get_for_user(self, session_id: SessionId, user_id: UserId) -> Session | None:
        query = select(SessionRow).where(SessionRow.id == session_id, SessionRow.user_id == user_id)
        async with translate_db_errors():
            row = await self._session.scalar(query)
        return None if row is None else self._to_entity(row)

    async def list_live(self, user_id: UserId, now: datetime) -> list[Session]:
        query = (
            select(SessionRow)
            .where(
                SessionRow.user_id == user_id,
                SessionRow.revoked_at.is_(None),
                SessionRow.expires_at > now,
            )
            .order_by(SessionRow.created_at.desc(), SessionRow.id.desc())
        )
        async with translate_db_errors():
            rows = (await self._session.scalars(query)).all()
        return [self._to_entity(row) for row in rows]

    async def save(self, session: Session) -> None:
        async with translate_db_errors():
            row = await self._session.get(SessionRow, session.id_)
            if row is None:
                raise LookupError(f"session {session.id_} was never added")
            self._write(row, session)
            await self._session.flush()

    async def revoke_all(self, user_id: UserId, now: datetime) -> list[Session]:
        live = await self.list_live(user_id, now)
        for session in live:
            await self.save(session.revoked(now))
        return live
