"""The SessionRepository contract over the fake, SQLite and PostgreSQL.

Each bundle seals provider tokens with its own cipher (AES-GCM for SQL, FakeCipher for the
fake); what is stored names that cipher's key and opens only as ``session:<id>:<field>``,
which is what key rotation (SqlaSealedRecords) relies on.
"""

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from uuid import UUID

import pytest
from sqlalchemy import text

from adapters.sqlalchemy import create_database_engine
from application.errors import DependencyUnavailableError
from application.ports.cipher import CipherError
from domain.identity.entities import UserId
from domain.identity.sessions import (
    ProviderTokens,
    Session,
    SessionId,
    new_session_token,
    session_token_hash,
)
from domain.shared.ids import new_id
from tests.backends import Backend, OpenPorts, Ports
from tests.factories import T0, create_user
from tests.fakes import FakeSessionRepository

JWT_LIKE = "eyJhbGciOiJSUzI1NiJ9." + "x" * 3000 + ".sig-_"
ODD = "tøkén with 'quotes', %, _, \\ and ünïcødé ✓"


def _session(
    user_id: UserId,
    *,
    minutes: int = 0,
    hours: int = 8,
    access: str | None = None,
    refresh: str | None = "",
    id_token: str | None = "",
) -> Session:
    """A session made ``minutes`` after T0 that lasts ``hours``; ``""`` means a fresh token."""
    created = T0 + timedelta(minutes=minutes)
    return Session(
        id_=SessionId(new_id()),
        user_id=user_id,
        token_hash=session_token_hash(new_session_token()),
        tokens=ProviderTokens(
            access_token=access if access is not None else f"access-{new_id().hex}",
            access_expires_at=created + timedelta(minutes=5),
            refresh_token=f"refresh-{new_id().hex}" if refresh == "" else refresh,
            refresh_expires_at=created + timedelta(hours=hours),
            id_token=f"id-{new_id().hex}" if id_token == "" else id_token,
        ),
        created_at=created,
        last_seen_at=created,
        expires_at=created + timedelta(hours=hours),
        identity_provider="github",
        user_agent="pytest",
    )


def _secrets(session: Session) -> list[str]:
    tokens = session.tokens
    return [t for t in (tokens.access_token, tokens.refresh_token, tokens.id_token) if t]


@dataclass(frozen=True)
class StoredRow:
    session_id: UUID
    sealed: dict[str, str | None]
    """The stored access, refresh and id token columns."""
    everything: str
    """Every column of the row, as text."""


async def _stored_rows(ports: Ports, backend_url: str | None) -> list[StoredRow]:
    """The rows as the storage holds them, read past the repository."""
    if backend_url is None:
        assert isinstance(ports.sessions, FakeSessionRepository)
        rows: list[StoredRow] = []
        for row in ports.sessions.stored():
            sealed = {
                "access": row.tokens.access_token,
                "refresh": row.tokens.refresh_token,
                "id": row.tokens.id_token,
            }
            everything = repr((sealed, row.token_hash, row.identity_provider, row.user_agent))
            rows.append(StoredRow(row.id_, sealed, everything))
        return rows
    engine = create_database_engine(backend_url, pool_size=1, connect_timeout_s=5)
    try:
        async with engine.connect() as connection:
            result = await connection.execute(text("SELECT * FROM sessions"))
            mappings = [dict(row) for row in result.mappings().all()]
    finally:
        await engine.dispose()
    return [
        StoredRow(
            UUID(str(row["id"])),
            {
                "access": row["access_token"],
                "refresh": row["refresh_token"],
                "id": row["id_token"],
            },
            repr(sorted(row.items())),
        )
        for row in mappings
    ]


async def _add(open_ports: OpenPorts, *sessions: Session) -> None:
    """Store the users the sessions belong to, then the sessions, each in a commit."""
    async with open_ports() as ports:
        for user_id in {s.user_id for s in sessions}:
            await ports.users.add(replace(create_user(), id_=user_id))
        await ports.uow.commit()
    async with open_ports() as ports:
        for session in sessions:
            await ports.sessions.add(session)
        await ports.uow.commit()


@pytest.fixture
def alice() -> UserId:
    return UserId(new_id())


@pytest.fixture
def bob() -> UserId:
    return UserId(new_id())


async def test_a_session_reads_back_by_token_hash_and_for_its_user_only(
    open_ports: OpenPorts, alice: UserId, bob: UserId
) -> None:
    session = _session(alice)
    bobs = _session(bob)
    await _add(open_ports, session, bobs)
    async with open_ports() as ports:
        by_hash = await ports.sessions.get_by_token_hash(session.token_hash)
        mine = await ports.sessions.get_for_user(session.id_, alice)
        assert await ports.sessions.get_for_user(session.id_, bob) is None
        assert await ports.sessions.get_for_user(SessionId(new_id()), alice) is None
        assert await ports.sessions.get_by_token_hash(session_token_hash("unknown")) is None
        assert await ports.sessions.get_by_token_hash(bobs.token_hash) == bobs
    assert by_hash == session
    assert mine == session


@pytest.mark.parametrize(
    ("access", "refresh", "id_token"),
    [
        pytest.param(JWT_LIKE, JWT_LIKE[::-1], JWT_LIKE + "id", id="long"),
        pytest.param(ODD, ODD + "r", ODD + "i", id="unicode"),
        pytest.param("", None, None, id="empty-access-no-refresh-no-id"),
    ],
)
async def test_tokens_round_trip_exactly(
    open_ports: OpenPorts, alice: UserId, access: str, refresh: str | None, id_token: str | None
) -> None:
    session = _session(alice, access=access, refresh=refresh, id_token=id_token)
    await _add(open_ports, session)
    async with open_ports() as ports:
        found = await ports.sessions.get_by_token_hash(session.token_hash)
    assert found is not None
    assert found.tokens.access_token == access
    assert found.tokens.refresh_token == refresh
    assert found.tokens.id_token == id_token
    assert found == session


async def test_tokens_are_stored_sealed_by_the_cipher_and_bound_to_their_row(
    open_ports: OpenPorts, backend_url: str | None, alice: UserId
) -> None:
    first, second = _session(alice, access=ODD), _session(alice, minutes=1)
    await _add(open_ports, first, second)
    async with open_ports() as ports:
        rows = {row.session_id: row for row in await _stored_rows(ports, backend_url)}
        cipher = ports.cipher
    assert set(rows) == {first.id_, second.id_}
    for session in (first, second):
        row = rows[session.id_]
        for secret in _secrets(session):
            assert secret not in row.everything
        plain = {
            "access": session.tokens.access_token,
            "refresh": session.tokens.refresh_token,
            "id": session.tokens.id_token,
        }
        for field, sealed in row.sealed.items():
            assert sealed is not None
            assert cipher.key_id_of(sealed) == cipher.current_key_id
            assert (
                cipher.decrypt(sealed, context=f"session:{session.id_}:{field}") == (plain[field])
            )
    # a sealed value moved to another row does not open there
    moved = rows[first.id_].sealed["access"]
    assert moved is not None
    assert cipher.decrypt(moved, context=f"session:{first.id_}:access") == ODD
    with pytest.raises(CipherError):
        cipher.decrypt(moved, context=f"session:{second.id_}:access")


SEALED_EARLIER = {
    "access": (
        "access-sealed-by-an-earlier-release",
        "v1.fixture.P-BtM2fKH68KWBNX.rLcBc83Nbh4SJBlX6L8u8jTVqaF6Sm5ilhjdvWYba0-srx6AGjnbGRtQ8lX5BqOa4yBe",
    ),
    "refresh": (
        "refresh-sealed-by-an-earlier-release",
        "v1.fixture.nTQDEXMbGQ00yTgu.USa_AX2SWWI0i0_GseXtGlvYtATIvPeadswpjd8E4o8Iqryab1TB3iiIEPVVUw_UX40-Xg",
    ),
    "id": (
        "id-sealed-by-an-earlier-release",
        "v1.fixture.nS6Q9Ed7PpshpLWu.eSwvAXErc0wIx33asgygZTw_oYQw7XV6HMWnS7p09G51zmvlg-EczG2ghkEP0zU",
    ),
}
"""AES-GCM under the fixture key, each bound to ``session:<SEALED_EARLIER_ID>:<field>``."""
SEALED_EARLIER_ID = SessionId(UUID("0b7e55a1-5e55-4a1d-9d0c-5ea1ed000001"))


async def test_rows_sealed_under_the_documented_context_still_open(
    backend: Backend, open_ports: OpenPorts, alice: UserId
) -> None:
    """Changing the context, even consistently, would lock out every row already stored."""
    if backend.execute is None:
        pytest.skip("the fake keeps no AES-GCM ciphertext")
    await _add(open_ports, replace(_session(alice), id_=SEALED_EARLIER_ID))
    columns = ", ".join(
        f"{field}_token = '{sealed}'" for field, (_, sealed) in SEALED_EARLIER.items()
    )
    async with backend.execute(f"UPDATE sessions SET {columns}"):
        pass
    async with open_ports() as ports:
        found = await ports.sessions.get_for_user(SEALED_EARLIER_ID, alice)
    assert found is not None
    assert found.tokens.access_token == SEALED_EARLIER["access"][0]
    assert found.tokens.refresh_token == SEALED_EARLIER["refresh"][0]
    assert found.tokens.id_token == SEALED_EARLIER["id"][0]


async def test_tokens_copied_to_another_row_do_not_open_there(
    backend: Backend, open_ports: OpenPorts, alice: UserId, bob: UserId
) -> None:
    if backend.execute is None:
        pytest.skip("the fake keeps no ciphertext to copy")
    first, second = _session(alice), _session(bob)
    await _add(open_ports, first, second)
    async with backend.execute(
        "UPDATE sessions SET access_token = (SELECT s.access_token FROM sessions s "
        f"WHERE s.token_hash = '{first.token_hash}') WHERE token_hash = '{second.token_hash}'"
    ):
        pass
    async with open_ports() as ports:
        assert await ports.sessions.get_for_user(first.id_, alice) == first
        with pytest.raises(DependencyUnavailableError):
            await ports.sessions.get_for_user(second.id_, bob)


async def test_live_sessions_exclude_revoked_expired_and_others_newest_first(
    open_ports: OpenPorts, alice: UserId, bob: UserId
) -> None:
    now = T0 + timedelta(hours=2)
    old = _session(alice, minutes=1)
    new = _session(alice, minutes=3)
    expired = _session(alice, minutes=4, hours=1)
    at_the_edge = replace(_session(alice, minutes=5), expires_at=now)
    revoked = _session(alice, minutes=6).revoked(T0 + timedelta(hours=1))
    bobs = _session(bob, minutes=7)
    await _add(open_ports, old, new, expired, at_the_edge, revoked, bobs)
    async with open_ports() as ports:
        live = await ports.sessions.list_live(alice, now)
        assert await ports.sessions.list_live(UserId(new_id()), now) == []
        assert [s.id_ for s in await ports.sessions.list_live(bob, now)] == [bobs.id_]
    assert [s.id_ for s in live] == [new.id_, old.id_]
    assert live == [new, old]


async def test_save_stores_new_tokens_expiry_and_last_seen(
    open_ports: OpenPorts, alice: UserId
) -> None:
    session = _session(alice)
    await _add(open_ports, session)
    now = T0 + timedelta(hours=1)
    tokens = ProviderTokens(
        access_token="rotated-access",
        access_expires_at=now + timedelta(minutes=5),
        refresh_token="rotated-refresh",
        refresh_expires_at=now + timedelta(days=3),
        id_token=None,
    )
    refreshed = session.refreshed(tokens, now)
    async with open_ports() as ports:
        await ports.sessions.save(refreshed)
        await ports.uow.commit()
    async with open_ports() as ports:
        stored = await ports.sessions.get_by_token_hash(session.token_hash)
    assert stored == refreshed
    assert stored is not None
    assert stored.tokens.access_token == "rotated-access"
    assert stored.tokens.refresh_token == "rotated-refresh"
    assert stored.tokens.id_token == session.tokens.id_token
    assert stored.expires_at == now + timedelta(days=3)
    assert stored.last_seen_at == now
    assert stored.created_at == session.created_at


async def test_save_stores_revocation_and_uncommitted_saves_are_dropped(
    open_ports: OpenPorts, alice: UserId
) -> None:
    session = _session(alice)
    await _add(open_ports, session)
    later = T0 + timedelta(minutes=30)
    async with open_ports() as ports:
        await ports.sessions.save(session.revoked(later))
    async with open_ports() as ports:
        assert await ports.sessions.list_live(alice, later) == [session]
        await ports.sessions.save(session.revoked(later))
        await ports.uow.commit()
    async with open_ports() as ports:
        stored = await ports.sessions.get_for_user(session.id_, alice)
        assert await ports.sessions.list_live(alice, later) == []
    assert stored is not None
    assert stored.revoked_at == later
    assert not stored.is_live(later)


async def test_saving_a_session_never_added_is_refused(
    open_ports: OpenPorts, alice: UserId
) -> None:
    await _add(open_ports, _session(alice))
    async with open_ports() as ports:
        with pytest.raises(LookupError):
            await ports.sessions.save(_session(alice))


async def test_revoke_all_ends_the_live_ones_and_returns_them_as_they_were(
    open_ports: OpenPorts, alice: UserId, bob: UserId
) -> None:
    before = T0 + timedelta(hours=1)
    now = T0 + timedelta(hours=2)
    first = _session(alice, minutes=1)
    second = _session(alice, minutes=2)
    expired = _session(alice, minutes=3, hours=1)
    revoked = _session(alice, minutes=4).revoked(before)
    bobs = _session(bob, minutes=5)
    await _add(open_ports, first, second, expired, revoked, bobs)
    async with open_ports() as ports:
        ended = await ports.sessions.revoke_all(alice, now)
        await ports.uow.commit()
    assert ended == [second, first]
    assert all(s.revoked_at is None for s in ended)
    async with open_ports() as ports:
        assert await ports.sessions.list_live(alice, now) == []
        assert await ports.sessions.list_live(bob, now) == [bobs]
        after = {
            s.id_: await ports.sessions.get_for_user(s.id_, alice)
            for s in (first, second, expired, revoked)
        }
        assert await ports.sessions.revoke_all(alice, now) == []
    assert {i: s.revoked_at if s else "missing" for i, s in after.items()} == {
        first.id_: now,
        second.id_: now,
        expired.id_: None,
        revoked.id_: before,
    }


async def test_timestamps_keep_their_instant_and_zone(open_ports: OpenPorts, alice: UserId) -> None:
    session = replace(_session(alice), created_at=T0 + timedelta(microseconds=123456))
    await _add(open_ports, session)
    async with open_ports() as ports:
        found = await ports.sessions.get_for_user(session.id_, alice)
    assert found is not None
    stamps: list[datetime | None] = [
        found.created_at,
        found.last_seen_at,
        found.expires_at,
        found.tokens.access_expires_at,
        found.tokens.refresh_expires_at,
    ]
    assert all(stamp is not None and stamp.utcoffset() == timedelta(0) for stamp in stamps)
    assert found.created_at == session.created_at
