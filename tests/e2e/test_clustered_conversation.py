"""Two production servers (``maestrist serve``) sharing PostgreSQL and Redis, on the scripted
runtime: a conversation started on the first is watched live over a websocket on the second,
which sees every event once and in order, to finished. The scripted runtime lives in the first
server's process, so the first must stay the conversation's owner while the second's socket
asks to follow it too."""

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import ClientConnection, connect
from websockets.sync.connection import Connection

from adapters.sqlalchemy import SqlaApiKeyRepository
from domain.identity.scopes import ALL_SCOPES
from tests.conftest import REDIS_URL
from tests.db import add_user, sqla_ports
from tests.e2e.test_server import RunningServer, clustered, running_server
from tests.factories import create_api_key

pytestmark = [pytest.mark.server, pytest.mark.postgres, pytest.mark.redis]


async def _api_token(url: str) -> str:
    ada = await add_user(url, "sub-ada")
    async with sqla_ports(url) as open_ports, open_ports() as ports:
        personal = (await ports.orgs.list_for_member(ada.id_))[0].organization
        key, token = create_api_key(ada, personal.id_, scopes=ALL_SCOPES, expires_at=None)
        assert isinstance(ports.api_keys, SqlaApiKeyRepository)
        await ports.api_keys.add(key)
        await ports.uow.commit()
    return str(token)


def _watch(server: RunningServer, cid: str, token: str, after: int = 0) -> ClientConnection:
    url = server.base_url.replace("http://", "ws://") + f"/ws/conversations/{cid}?after={after}"
    return connect(
        url,
        open_timeout=10,
        proxy=None,
        additional_headers={"Authorization": f"Bearer {token}"},
    )


def _events_until_finished(socket: Connection) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    while True:
        frame = json.loads(socket.recv(timeout=15))
        if frame["type"] != "event":
            continue
        event = frame["event"]
        events.append(event)
        payload = event["payload"]
        if payload.get("key") == "execution_status" and payload.get("value") == "finished":
            return events


def test_a_conversation_on_one_server_is_watched_live_on_another(
    tmp_path: Path, postgres_url: str
) -> None:
    token = asyncio.run(_api_token(postgres_url))
    settings = {
        **clustered(tmp_path, postgres_url, REDIS_URL),
        "MAESTRIST_RUNTIME": "scripted",
        "MAESTRIST_DEPENDENCY_TIMEOUT": "5",
    }
    auth = {"Authorization": f"Bearer {token}"}
    with (
        running_server(tmp_path / "first.log", settings) as first,
        running_server(tmp_path / "second.log", settings) as second,
    ):
        configured = first.http.post(
            "/api/settings",
            json={"llmModel": "openai/gpt-4o", "llmApiKey": "sk-not-real"},
            headers=auth,
        )
        assert configured.status_code == 200, configured.text
        created = first.http.post("/api/conversations", json={"title": "Greet"}, headers=auth)
        assert created.status_code == 201, created.text
        cid = created.json()["id"]
        # Both sockets are open before the agent works: what they get comes live.
        with _watch(second, cid, token) as there, _watch(first, cid, token) as here:
            sent = first.http.post(
                f"/api/conversations/{cid}/messages", json={"text": "Say hello"}, headers=auth
            )
            assert sent.status_code == 202, sent.text
            watched = _events_until_finished(there)
            local = _events_until_finished(here)
        stored = second.http.get(
            f"/api/conversations/{cid}/events", params={"limit": 1000}, headers=auth
        )
        assert stored.status_code == 200, stored.text
        found = second.http.get(f"/api/conversations/{cid}", headers=auth).json()
        # a late socket on the second server replays the stored events, then ends as they did
        with _watch(second, cid, token, after=2) as late:
            replayed = _events_until_finished(late)
        logs = first.log() + second.log()

    seqs = [event["seq"] for event in watched]
    assert seqs == list(range(1, len(watched) + 1)), seqs
    assert len({event["id"] for event in watched}) == len(watched)
    assert watched == local
    assert [event["id"] for event in stored.json()["items"]] == [e["id"] for e in watched]
    assert found["status"] == "finished"
    assert [event["id"] for event in replayed] == [event["id"] for event in watched[2:]]
    kinds = {event["kind"] for event in watched}
    assert {"SystemPromptEvent", "MessageEvent", "ConversationStateUpdateEvent"} <= kinds
    assert token not in logs
    assert "Traceback" not in logs, logs
