"""Fixtures the end-to-end modules share."""

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from adapters.openhands.agent_server_env import is_ready
from adapters.openhands.local_host import LocalProcessConfig, LocalProcessHost
from domain.conversations.value_objects import HostInfo
from tests.e2e.test_agent_server_conversation import VENV


@pytest.fixture(scope="module")
def agent_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostInfo]:
    """One agent-server for the module, run apart from every one of our servers, as an
    operator's external runtime is."""
    if not is_ready(VENV):
        pytest.fail(f"The agent-server virtualenv {VENV} is missing; run `just agent-server-env`.")
    host = LocalProcessHost(
        LocalProcessConfig(venv=VENV, data_dir=tmp_path_factory.mktemp("agent-server"))
    )
    with ThreadPoolExecutor(1) as thread:
        info = thread.submit(asyncio.run, host.ensure_running()).result()
        try:
            yield info
        finally:
            thread.submit(asyncio.run, host.stop()).result()
