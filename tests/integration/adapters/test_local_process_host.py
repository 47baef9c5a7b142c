"""LocalProcessHost against the real agent-server: what it leaves on disk, what the child
inherits, and how a later server adopts or replaces what an earlier one started."""

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest

from adapters.openhands import LocalProcessConfig, LocalProcessHost
from adapters.openhands.agent_server_env import AGENT_SERVER_VERSION, is_ready
from application.errors import DependencyUnavailableError
from domain.conversations import HostHealth
from tests.contract.test_conversation_runtime import AGENT_SERVER_VENV


def private(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) == 0o600


async def test_a_missing_virtualenv_says_how_to_make_it(tmp_path: Path) -> None:
    sut = LocalProcessHost(LocalProcessConfig(venv=tmp_path / "none", data_dir=tmp_path / "h"))
    with pytest.raises(DependencyUnavailableError, match="just agent-server-env"):
        await sut.ensure_running()
    assert await sut.health() is HostHealth.DOWN


@pytest.mark.agent_server
async def test_a_dead_record_is_replaced_and_the_child_gets_only_what_it_needs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not is_ready(AGENT_SERVER_VENV):
        pytest.fail(f"{AGENT_SERVER_VENV} is missing; run `just agent-server-env`.")
    monkeypatch.setenv("MAESTRIST_ENCRYPTION_KEYS", "must-not-leak")
    data = tmp_path / "host"
    data.mkdir()
    dead = subprocess.Popen(["true"])
    dead.wait()
    record = {
        "pid": dead.pid,
        "port": 9,
        "session_key": "old",
        "version": AGENT_SERVER_VERSION,
        "started_at": 0.0,
    }
    (data / "host.json").write_text(json.dumps(record))
    sut = LocalProcessHost(LocalProcessConfig(venv=AGENT_SERVER_VENV, data_dir=data))
    try:
        info = await sut.ensure_running()

        assert sut.pid is not None
        assert sut.pid != dead.pid
        assert info.base_url.startswith("http://127.0.0.1:")
        assert info.session_key != "old"
        state = json.loads((data / "host.json").read_text())
        assert (state["pid"], state["session_key"]) == (sut.pid, info.session_key)
        assert private(data / "host.json")
        assert private(data / "secret-key")
        environ = dict(
            entry.split("=", 1)
            for entry in Path(f"/proc/{sut.pid}/environ").read_text().split("\0")
            if "=" in entry
        )
        assert not [name for name in environ if name.startswith("MAESTRIST_")]
        assert environ["OH_SESSION_API_KEYS_0"] == info.session_key
        assert environ["OH_ENABLE_VSCODE"] == "0"
        assert environ["OH_PRELOAD_TOOLS"] == "0"
        assert environ["LITELLM_LOCAL_MODEL_COST_MAP"] == "True"
        assert environ["OH_CONVERSATIONS_PATH"] == str(data / "conversations")
        assert await sut.health() is HostHealth.UP
        assert private(sut.log_path)
        assert info.session_key not in sut.log_path.read_text()
        assert os.getpgid(sut.pid) != os.getpgid(0)  # its own session: Ctrl-C spares it
    finally:
        pid = sut.pid
        await sut.stop()
    assert pid is not None
    stat_file = Path(f"/proc/{pid}/stat")
    assert not stat_file.exists() or stat_file.read_text().rsplit(")", 1)[1].split()[0] == "Z"
    assert not (data / "host.json").exists()
    assert await sut.health() is HostHealth.DOWN
