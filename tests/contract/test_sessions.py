"""The SessionRepository contract over the fake, SQLite and PostgreSQL."""

from datetime import timedelta

from sqlalchemy import text

from adapters.sqlalchemy import create_database_engine
from domain.identity.sessions import (
    ProviderTokens,
    Session,
    SessionId,
    new_session_token,
    session_token_hash,
)
from domain.shared.ids import new_id
from tests.db import OpenPorts
from tests.factories import T0, create_user


def _session(user_id: object, *, minutes: int = 0, hours: int = 8) -> Session:
    created = T0 + timedelta(minutes=minutes)
    return Session(
        id_=SessionId(new_id()),
        user_id=user_id,  # type: ignore[arg-type]
        token_hash=session_token_hash(new_session_token()),
        tokens=ProviderTokens(
            access_token=f"access-{new_id().hex}",
            access_expires_at=created + timedelta(minutes=5),
            refresh_token=f"refresh-{new_id().hex}",
            refresh_expires_at=None,
            id_token=f"id-{new_id().hex}",
        ),
        created_at=created,
        last_seen_at=created,
        expires_at=created + timedelta(hours=hours),
        identity_provider="github",
        user_agent="pytest",
    )


async def test_sessions_read_back_with_their_tokens(
    open_ports: OpenPorts, backend_url: str | None
) -> None:
    alice, bob = create_user("alice"), create_user("bob")
    session = _session(alice.id_)
    async with open_ports() as ports:
        await ports.users.add(alice)
        await ports.users.add(bob)
        await ports.sessions.add(session)
        await ports.uow.commit()
    async with open_ports() as ports:
        by_hash = await ports.sessions.get_by_token_hash(session.token_hash)
        mine = await ports.sessions.get_for_user(session.id_, alice.id_)
        assert await ports.sessions.get_for_user(session.id_, bob.id_) is None
        assert await ports.sessions.get_by_token_hash("0" * 64) is None
    assert by_hash == session
    assert mine == session
    if backend_url is not None:
        engine = create_database_engine(backend_url, pool_size=1, connect_timeout_s=5)
        try:
            async with engine.connect() as connection:
                row = repr((await connection.execute(text("SELECT * FROM sessions"))).all())
        finally:
            await engine.dispose()
        tokens = session.tokens
        for secret in (tokens.access_token, tokens.refresh_token, tokens.id_token):
            assert secret is not None
            assert secret not in row


async def test_live_sessions_newest_first_and_revocation(open_ports: OpenPorts) -> None:
    alice = create_user("alice")
    old, new, short = (
        _session(alice.id_, minutes=1),
        _session(alice.id_, minutes=2),
        _session(alice.id_, minutes=3, hours=1),
    )
    now = T0 + timedelta(hours=2)
    async with open_ports() as ports:
        await ports.users.add(alice)
        for session in (old, new, short):
            await ports.sessions.add(session)
        await ports.uow.commit()
    async with open_ports() as ports:
        assert [s.id_ for s in await ports.sessions.list_live(alice.id_, now)] == [new.id_, old.id_]
        refreshed = new.refreshed(
            ProviderTokens(
                access_token="rotated",
                access_expires_at=now + timedelta(minutes=5),
                refresh_token="rotated-refresh",
                refresh_expires_at=now + timedelta(days=3),
                id_token=None,
            ),
            now,
        )
        await ports.sessions.save(refreshed)
        await ports.uow.commit()
    async with open_ports() as ports:
        stored = await ports.sessions.get_for_user(new.id_, alice.id_)
        ended = await ports.sessions.revoke_all(alice.id_, now)
        await ports.uow.commit()
    assert stored is not None
    assert stored.tokens.access_token == "rotated"
    assert stored.tokens.refresh_token == "rotated-refresh"
    assert stored.tokens.id_token == new.tokens.id_token
    assert stored.expires_at == now + timedelta(days=3)
    assert {s.id_ for s in ended} == {old.id_, new.id_}
    async with open_ports() as ports:
        assert await ports.sessions.list_live(alice.id_, now) == []
        gone = await ports.sessions.get_for_user(old.id_, alice.id_)
    assert gone is not None
    assert gone.revoked_at == now
