"""The production server (``maestrist serve``, granian) runs a conversation on the scripted
runtime and streams it over a real websocket; a restart keeps it, every event once."""

import json
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import connect

from tests.e2e.test_server import running_server

pytestmark = pytest.mark.server


def _frames_until_finished(url: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    with connect(url, open_timeout=10, proxy=None) as socket:
        while True:
            frame = json.loads(socket.recv(timeout=10))
            if frame["type"] != "event":
                continue
            event = frame["event"]
            events.append(event)
            payload = event["payload"]
            if payload.get("key") == "execution_status" and payload.get("value") == "finished":
                return events


def test_a_conversation_streams_over_a_real_websocket_and_survives_a_restart(
    tmp_path: Path,
) -> None:
    settings = {"MAESTRIST_DATA_DIR": str(tmp_path / "data"), "MAESTRIST_RUNTIME": "scripted"}
    with running_server(tmp_path / "first.log", settings) as server:
        configured = server.http.post(
            "/api/settings", json={"llmModel": "openai/gpt-4o", "llmApiKey": "sk-not-real"}
        )
        assert configured.status_code == 200, configured.text
        created = server.http.post("/api/conversations", json={"message": "Say hello"})
        assert created.status_code == 201, created.text
        cid = created.json()["id"]
        ws_url = server.base_url.replace("http://", "ws://") + f"/ws/conversations/{cid}?after=0"
        live = _frames_until_finished(ws_url)
        assert [event["seq"] for event in live] == list(range(1, len(live) + 1))
        assert server.stop() == 0

    with running_server(tmp_path / "second.log", settings) as restarted:
        found = restarted.http.get(f"/api/conversations/{cid}").json()
        assert found["status"] == "finished"
        assert found["title"] == "Say hello"
        stored = restarted.http.get(
            f"/api/conversations/{cid}/events", params={"limit": 1000}
        ).json()["items"]
        assert [event["id"] for event in stored] == [event["id"] for event in live]
        ws_url = restarted.base_url.replace("http://", "ws://") + f"/ws/conversations/{cid}?after=2"
        replayed = _frames_until_finished(ws_url)
        assert [event["id"] for event in replayed] == [event["id"] for event in live[2:]]
