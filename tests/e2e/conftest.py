"""Fixtures the end-to-end modules share."""

from collections.abc import Generator, Iterator
from pathlib import Path

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


LOG_TAIL_LINES = 60
"""How much of each server's log a failing test shows: what it did last."""


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, None]:
    """A failing end-to-end test shows the end of every log its servers wrote (in its
    ``tmp_path``): a failure in a CI run cannot be looked into afterwards."""
    outcome = yield
    report = outcome.get_result()
    tmp_path = getattr(item, "funcargs", {}).get("tmp_path")
    if not report.failed or not isinstance(tmp_path, Path):
        return
    for log in sorted(tmp_path.rglob("*.log")):
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
        tail = "\n".join(line[:600] for line in lines[-LOG_TAIL_LINES:])
        report.sections.append((f"{log.relative_to(tmp_path)} (last lines)", tail))
