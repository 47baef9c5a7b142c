"""An OpenHands agent-server run apart from our servers, as an operator's external runtime
is: for the end-to-end tests and the failover measurement."""

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from adapters.openhands.agent_server_env import is_ready
from adapters.openhands.local_host import LocalProcessConfig, LocalProcessHost
from domain.conversations.value_objects import HostInfo

__all__ = ("agent_server_client", "conversation_at", "running_agent_server")


@contextmanager
def running_agent_server(venv: Path, data_dir: Path) -> Iterator[HostInfo]:
    """Start the agent-server of ``venv`` keeping its state in ``data_dir``; stop it after."""
    if not is_ready(venv):
        raise RuntimeError(
            f"The agent-server virtualenv {venv} is missing; run `just agent-server-env`."
        )
    host = LocalProcessHost(LocalProcessConfig(venv=venv, data_dir=data_dir))
    with ThreadPoolExecutor(1) as thread:
        info = thread.submit(asyncio.run, host.ensure_running()).result()
        try:
            yield info
        finally:
            thread.submit(asyncio.run, host.stop()).result()


def agent_server_client(info: HostInfo) -> httpx.Client:
    """A client of the agent-server's own API, with its session key."""
    return httpx.Client(
        base_url=info.base_url,
        headers={"X-Session-API-Key": info.session_key},
        trust_env=False,
        timeout=30,
    )


def conversation_at(info: HostInfo, cid: str) -> dict[str, Any]:
    """What the agent-server holds of one conversation (``ConversationInfo``)."""
    with agent_server_client(info) as client:
        answer = client.get(f"/api/conversations/{cid}")
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found
