"""Websockets through the production server (``maestrist serve``) with a real client: every
refusal arrives as a close frame with its documented code and a reason; a socket open on one
server closes once the API key behind it is revoked, its session ended or its member removed
through another server; and a stopping server closes its sockets with 1001."""

import asyncio
import json
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect
from websockets.sync.connection import Connection

from adapters.crypto import AesGcmCipher
from adapters.sqlalchemy import (
    SqlaApiKeyRepository,
    SqlaSessionRepository,
    create_database_engine,
)
from application.identity.session_authenticator import SESSION_COOKIE
from domain.identity.api_keys import ApiKeyId
from domain.identity.entities import User
from domain.identity.scopes import ALL_SCOPES, Scope
from domain.identity.sessions import (
    ProviderTokens,
    Session,
    SessionId,
    new_session_token,
    session_token_hash,
)
from domain.organizations.entities import Membership, OrgId, Role
from domain.shared.ids import new_id
from entrypoints.settings import parse_encryption_keys
from tests.conftest import REDIS_URL, TEST_ENCRYPTION_KEYS
from tests.db import add_user, sqla_ports
from tests.e2e.test_server import RunningServer, clustered, running_server
from tests.factories import T0, create_api_key, create_org
from tests.support.oidc import run_oidc_provider

pytestmark = pytest.mark.server

CLOSE_DEADLINE_S = 10.0
"""Only keeps a socket that never closes from hanging the run; nothing here measures speed."""

Headers = dict[str, str]


def _socket(server: RunningServer, path: str, headers: Headers | None = None) -> ClientConnection:
    url = server.base_url.replace("http://", "ws://") + path
    return connect(url, open_timeout=10, proxy=None, additional_headers=headers or {})


def _closed(socket: Connection) -> tuple[int, str]:
    """Read until the server closes the socket; its close code and reason."""
    deadline = time.monotonic() + CLOSE_DEADLINE_S
    try:
        while (left := deadline - time.monotonic()) > 0:
            socket.recv(timeout=left)
    except ConnectionClosed as closed:
        assert closed.rcvd is not None, "the connection ended without a close frame"
        return closed.rcvd.code, closed.rcvd.reason
    except TimeoutError:
        pass
    pytest.fail(f"the socket was still open {CLOSE_DEADLINE_S} s later")


def _refused(server: RunningServer, path: str, headers: Headers | None = None) -> tuple[int, str]:
    with _socket(server, path, headers) as socket:
        return _closed(socket)


def _first_event(socket: Connection) -> dict[str, Any]:
    while True:
        frame: dict[str, Any] = json.loads(socket.recv(timeout=15))
        if frame["type"] == "event":
            return frame


def _until_finished(socket: Connection) -> None:
    while True:
        payload = _first_event(socket)["event"]["payload"]
        if payload.get("key") == "execution_status" and payload.get("value") == "finished":
            return


async def _add_key_with_id(
    url: str, user: User, org_id: OrgId, scopes: frozenset[Scope]
) -> tuple[ApiKeyId, str]:
    key, token = create_api_key(user, org_id, scopes=scopes, expires_at=None)
    async with sqla_ports(url) as open_ports, open_ports() as ports:
        assert isinstance(ports.api_keys, SqlaApiKeyRepository)
        await ports.api_keys.add(key)
        await ports.uow.commit()
    return key.id_, str(token)


async def _add_key(url: str, user: User, org_id: OrgId, scopes: frozenset[Scope]) -> str:
    return (await _add_key_with_id(url, user, org_id, scopes))[1]


async def _personal_org(url: str, user: User) -> OrgId:
    async with sqla_ports(url) as open_ports, open_ports() as ports:
        return (await ports.orgs.list_for_member(user.id_))[0].organization.id_


def _bearer(token: str) -> Headers:
    return {"Authorization": f"Bearer {token}"}


def _scripted(tmp_path: Path, postgres_url: str) -> dict[str, str]:
    return {
        **clustered(tmp_path, postgres_url, REDIS_URL),
        "MAESTRIST_RUNTIME": "scripted",
        "MAESTRIST_DEPENDENCY_TIMEOUT": "5",
    }


def _start_conversation(server: RunningServer, headers: Headers) -> str:
    configured = server.http.post(
        "/api/settings",
        json={"llmModel": "openai/gpt-4o", "llmApiKey": "sk-not-real"},
        headers=headers,
    )
    assert configured.status_code == 200, configured.text
    created = server.http.post(
        "/api/conversations", json={"title": "Greet", "message": "Hi"}, headers=headers
    )
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


@pytest.mark.postgres
@pytest.mark.redis
def test_every_refusal_reaches_a_real_client_as_its_close_code(
    tmp_path: Path, postgres_url: str
) -> None:
    ada = asyncio.run(add_user(postgres_url, "sub-ada"))
    personal = asyncio.run(_personal_org(postgres_url, ada))
    token = asyncio.run(_add_key(postgres_url, ada, personal, ALL_SCOPES))
    blind = asyncio.run(_add_key(postgres_url, ada, personal, frozenset({Scope.SETTINGS_READ})))
    with running_server(tmp_path / "server.log", _scripted(tmp_path, postgres_url)) as server:
        cid = _start_conversation(server, _bearer(token))
        path = f"/ws/conversations/{cid}"
        refusals = {
            "no credentials": _refused(server, path),
            "a wrong key": _refused(server, path, _bearer("mst_not_a_real_key")),
            "no conversations:read": _refused(server, path, _bearer(blind)),
            "another site": _refused(
                server, path, {**_bearer(token), "Origin": "https://evil.example"}
            ),
            "no such conversation": _refused(
                server, f"/ws/conversations/{new_id()}", _bearer(token)
            ),
            "after not a number": _refused(server, f"{path}?after=soon", _bearer(token)),
            "after beyond 2^53-1": _refused(server, f"{path}?after={2**53}", _bearer(token)),
        }
        with _socket(server, f"{path}?after={2**53 - 1}", _bearer(token)) as socket:
            socket.send(json.dumps({"type": "message", "text": "Still there?"}))
            answered = json.loads(socket.recv(timeout=15))
        logs = server.log()

    codes = {why: code for why, (code, _) in refusals.items()}
    assert codes == {
        "no credentials": 4401,
        "a wrong key": 4401,
        "no conversations:read": 4403,
        "another site": 4403,
        "no such conversation": 4404,
        "after not a number": 4422,
        "after beyond 2^53-1": 4422,
    }
    assert all(reason for _, reason in refusals.values()), refusals
    assert "after" in refusals["after beyond 2^53-1"][1]
    assert answered == {"type": "accepted"}
    assert "Traceback" not in logs, logs


async def _add_session(url: str, user: User) -> tuple[SessionId, str]:
    """A signed-in session of ``user`` (as sign-in stores one), sealed with the servers' keys;
    its id and cookie value."""
    token = new_session_token()
    now = datetime.now(UTC)
    session = Session(
        id_=SessionId(new_id()),
        user_id=user.id_,
        token_hash=session_token_hash(token),
        tokens=ProviderTokens(
            access_token="not-used-here",
            access_expires_at=now + timedelta(hours=1),
            refresh_token=None,
            refresh_expires_at=None,
            id_token=None,
        ),
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(hours=8),
    )
    engine = create_database_engine(url, pool_size=1, connect_timeout_s=5)
    try:
        async with AsyncSession(engine, expire_on_commit=False) as db:
            cipher = AesGcmCipher(parse_encryption_keys(TEST_ENCRYPTION_KEYS))
            await SqlaSessionRepository(db, cipher).add(session)
            await db.commit()
    finally:
        await engine.dispose()
    return session.id_, token


async def _team(url: str, owner: User, member: User) -> OrgId:
    """An organization of ``owner`` that ``member`` belongs to."""
    org, founder = create_org(owner)
    async with sqla_ports(url) as open_ports, open_ports() as ports:
        await ports.orgs.add(org, founder)
        await ports.orgs.add_member(
            Membership(org_id=org.id_, user_id=member.id_, role=Role.MEMBER, joined_at=T0)
        )
        await ports.uow.commit()
    return org.id_


def _cookie(token: str, org_id: OrgId | None = None) -> Headers:
    headers = {"Cookie": f"{SESSION_COOKIE}={token}"}
    return headers if org_id is None else {**headers, "X-Org-Id": str(org_id)}


def _accepted(socket: Connection) -> dict[str, Any]:
    """The answer to a message frame, past the events and heartbeats before it."""
    while True:
        frame: dict[str, Any] = json.loads(socket.recv(timeout=20))
        if frame["type"] not in {"event", "heartbeat"}:
            return frame


async def _revoke_unannounced(url: str, key_id: ApiKeyId) -> None:
    """Revoke a key in the database only, as no use case would: no server hears of it."""
    engine = create_database_engine(url, pool_size=1, connect_timeout_s=5)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text("UPDATE api_keys SET revoked_at = now() WHERE id = :id"), {"id": key_id}
            )
    finally:
        await engine.dispose()


def _refused_within(server: RunningServer, headers: Headers) -> bool:
    """Whether the server refuses the credential within a few seconds (the announcement is on
    its way); far less than the credential cache's 60 s."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if server.http.get("/api/user/me", headers=headers).status_code == 401:
            return True
        time.sleep(0.05)
    return False


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.oidc
def test_a_socket_closes_on_every_server_once_its_access_ends_on_another(
    tmp_path: Path, postgres_url: str
) -> None:
    url = postgres_url
    ada, bob = asyncio.run(add_user(url, "sub-ada")), asyncio.run(add_user(url, "sub-bob"))
    personal = asyncio.run(_personal_org(url, ada))
    team = asyncio.run(_team(url, bob, ada))
    doomed_key, doomed_token = asyncio.run(_add_key_with_id(url, ada, personal, ALL_SCOPES))
    ada_token = asyncio.run(_add_key(url, ada, personal, ALL_SCOPES))
    bob_token = asyncio.run(_add_key(url, bob, team, ALL_SCOPES))
    doomed_session, doomed_cookie = asyncio.run(_add_session(url, ada))
    _, ada_cookie = asyncio.run(_add_session(url, ada))
    hidden_key, hidden_token = asyncio.run(_add_key_with_id(url, ada, personal, ALL_SCOPES))
    with run_oidc_provider("http://127.0.0.1/api/auth/callback", "http://127.0.0.1/") as provider:
        settings = {
            **_scripted(tmp_path, url),
            "MAESTRIST_OIDC_ISSUER": provider.issuer,
            "MAESTRIST_OIDC_CLIENT_ID": provider.client_id,
            "MAESTRIST_OIDC_CLIENT_SECRET": provider.client_secret,
            # far longer than any wait below: only an announcement can end a reused credential
            "MAESTRIST_CREDENTIAL_CACHE": "60",
        }
        with (
            running_server(tmp_path / "first.log", settings) as first,
            running_server(tmp_path / "second.log", settings) as second,
        ):
            for headers in (_bearer(doomed_token), _cookie(doomed_cookie), _bearer(hidden_token)):
                assert second.http.get("/api/user/me", headers=headers).status_code == 200
            # the control: a key revoked behind the servers' back is still reused, so the
            # refusals below come from the announcements, not from reading the database again
            asyncio.run(_revoke_unannounced(url, hidden_key))
            hidden = second.http.get("/api/user/me", headers=_bearer(hidden_token))
            mine = f"/ws/conversations/{_start_conversation(first, _bearer(ada_token))}"
            theirs = _start_conversation(first, _cookie(ada_cookie, team))
            with (
                _socket(second, mine, _bearer(doomed_token)) as by_key,
                _socket(second, mine, _cookie(doomed_cookie)) as by_session,
                _socket(second, f"/ws/conversations/{theirs}", _cookie(ada_cookie, team)) as member,
                _socket(first, mine, _bearer(ada_token)) as bystander,
            ):
                for socket in (by_key, by_session, member, bystander):
                    _first_event(socket)  # each is open and streaming
                # managing keys is a person's act: ada revokes it signed in, not with a key
                revoked = first.http.delete(f"/api/keys/{doomed_key}", headers=_cookie(ada_cookie))
                key_closed = _closed(by_key)
                key_refused = _refused_within(second, _bearer(doomed_token))
                ended = first.http.delete(
                    f"/api/auth/sessions/{doomed_session}", headers=_cookie(ada_cookie)
                )
                session_closed = _closed(by_session)
                session_refused = _refused_within(second, _cookie(doomed_cookie))
                removed = first.http.delete(
                    f"/api/orgs/{team}/members/{ada.id_}", headers=_bearer(bob_token)
                )
                member_closed = _closed(member)
                bystander.send(json.dumps({"type": "message", "text": "Still here"}))
                answered = _accepted(bystander)
            logs = first.log() + second.log()

    assert hidden.status_code == 200, hidden.text
    assert key_refused, "the revoked key still worked on the other server"
    assert session_refused, "the ended session still worked on the other server"
    assert revoked.status_code == 204, revoked.text
    assert ended.status_code == 204, ended.text
    assert removed.status_code == 204, removed.text
    assert key_closed[0] == 4401, key_closed
    assert session_closed[0] == 4401, session_closed
    assert member_closed[0] == 4404, member_closed
    assert answered == {"type": "accepted"}
    assert "Traceback" not in logs, logs


@pytest.mark.parametrize("whole_group", [True, False], ids=["group", "main-process"])
def test_a_stopping_server_closes_its_sockets_with_going_away(
    tmp_path: Path, *, whole_group: bool
) -> None:
    settings = {"MAESTRIST_DATA_DIR": str(tmp_path / "data"), "MAESTRIST_RUNTIME": "scripted"}
    with running_server(tmp_path / "server.log", settings) as server:
        cid = _start_conversation(server, {})
        with _socket(server, f"/ws/conversations/{cid}") as socket:
            _until_finished(socket)  # the agent is done: only the socket is open
            stopping = threading.Thread(target=server.stop, kwargs={"whole_group": whole_group})
            stopping.start()
            code, reason = _closed(socket)
            stopping.join()
        exit_code = server.process.returncode
        logs = server.log()

    assert (code, exit_code) == (1001, 0), logs
    assert "shutting down" in reason
    assert "Traceback" not in logs, logs
