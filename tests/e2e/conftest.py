"""Fixtures the end-to-end modules share."""

from collections.abc import Iterator

import pytest

from domain.conversations.value_objects import HostInfo
from tests.e2e.test_agent_server_conversation import VENV
from tests.support.agent_server import running_agent_server


@pytest.fixture(scope="module")
def agent_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostInfo]:
    """One agent-server for the module, run apart from every one of our servers, as an
    operator's external runtime is."""
    try:
        with running_agent_server(VENV, tmp_path_factory.mktemp("agent-server")) as info:
            yield info
    except RuntimeError as exc:
        pytest.fail(str(exc))
