from datetime import timedelta

from domain.identity.entities import UserId
from domain.identity.sessions import (
    REFRESH_MARGIN,
    ProviderTokens,
    Session,
    SessionId,
    new_session_token,
    session_token_hash,
)
from domain.shared.ids import new_id
from tests.factories import T0


def _session(*, refresh: str | None = "refresh-1", id_token: str | None = "id-1") -> Session:
    return Session(
        id_=SessionId(new_id()),
        user_id=UserId(new_id()),
        token_hash=session_token_hash(new_session_token()),
        tokens=ProviderTokens(
            access_token="access-1",
            access_expires_at=T0 + timedelta(minutes=5),
            refresh_token=refresh,
            refresh_expires_at=T0 + timedelta(hours=8),
            id_token=id_token,
        ),
        created_at=T0,
        last_seen_at=T0,
        expires_at=T0 + timedelta(hours=8),
    )


def test_a_session_is_live_until_it_expires_or_is_revoked() -> None:
    session = _session()
    end = session.expires_at
    assert session.is_live(end - timedelta(microseconds=1))
    assert not session.is_live(end)
    assert not session.revoked(T0).is_live(T0)


def test_revoking_again_keeps_the_first_revocation() -> None:
    revoked = _session().revoked(T0)
    assert revoked.revoked(T0 + timedelta(hours=1)).revoked_at == T0


def test_tokens_are_due_for_refresh_from_the_margin_before_they_expire() -> None:
    session = _session()
    due = session.tokens.access_expires_at - REFRESH_MARGIN
    assert not session.needs_refresh(due - timedelta(microseconds=1))
    assert session.needs_refresh(due)
    assert session.needs_refresh(due - timedelta(minutes=1), margin=REFRESH_MARGIN * 3)


def test_a_refresh_keeps_what_the_provider_did_not_send_again() -> None:
    session = _session()
    later = T0 + timedelta(minutes=4)
    answer = ProviderTokens(
        access_token="access-2",
        access_expires_at=later + timedelta(minutes=5),
        refresh_token=None,
        refresh_expires_at=None,
        id_token=None,
    )
    refreshed = session.refreshed(answer, later)
    assert refreshed.tokens.access_token == "access-2"
    assert refreshed.tokens.access_expires_at == later + timedelta(minutes=5)
    assert refreshed.tokens.refresh_token == "refresh-1"
    assert refreshed.tokens.id_token == "id-1"
    assert refreshed.expires_at == session.expires_at
    assert refreshed.last_seen_at == later
    assert (refreshed.id_, refreshed.token_hash) == (session.id_, session.token_hash)


def test_a_refresh_takes_the_new_refresh_token_and_its_lifetime() -> None:
    session = _session()
    later = T0 + timedelta(minutes=4)
    answer = ProviderTokens(
        access_token="access-2",
        access_expires_at=later + timedelta(minutes=5),
        refresh_token="refresh-2",
        refresh_expires_at=later + timedelta(hours=10),
        id_token="id-2",
    )
    refreshed = session.refreshed(answer, later)
    assert refreshed.tokens.refresh_token == "refresh-2"
    assert refreshed.tokens.id_token == "id-2"
    assert refreshed.expires_at == later + timedelta(hours=10)


def test_session_tokens_are_random_and_stored_only_as_their_hash() -> None:
    tokens = {new_session_token() for _ in range(200)}
    assert len(tokens) == 200
    token = tokens.pop()
    assert len(token) == 43
    assert session_token_hash(token) == session_token_hash(token)
    assert token not in session_token_hash(token)
    assert len(session_token_hash(token)) == 64
