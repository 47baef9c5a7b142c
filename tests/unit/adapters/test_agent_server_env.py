import json
import os
import stat
import subprocess
from pathlib import Path

import pytest

from adapters.openhands.agent_server_env import (
    AGENT_SERVER_VERSION,
    BuildFailedError,
    EnvironmentState,
    EnvironmentStatus,
    NoInterpreterError,
    build,
    environment_status,
    find_interpreter,
    is_ready,
    marker_path,
)


def fake_python(path: Path, version: str, *, works: bool = True) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = f"echo {version}" if works else "echo 'pyenv: version not enabled' >&2; exit 127"
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_a_configured_interpreter_too_old_is_refused_by_name(tmp_path: Path) -> None:
    old = fake_python(tmp_path / "python3.11", "3 11")
    with pytest.raises(NoInterpreterError, match=r"MAESTRIST_AGENT_SERVER_PYTHON=.* is 3\.11"):
        find_interpreter(str(old), {"PATH": ""})


def test_a_configured_interpreter_that_runs_is_taken(tmp_path: Path) -> None:
    good = fake_python(tmp_path / "py", "3 13")
    assert find_interpreter(str(good), {"PATH": ""}) == good


def test_a_pyenv_shim_that_refuses_is_passed_over_for_the_version_itself(tmp_path: Path) -> None:
    shims = tmp_path / "shims"
    fake_python(shims / "python3.12", "", works=False)
    fake_python(shims / "python3", "3 11")
    root = tmp_path / "pyenv"
    fake_python(root / "versions" / "3.9.18" / "bin" / "python3", "3 9")
    fake_python(root / "versions" / "3.12.1" / "bin" / "python3", "3 12")
    newest = fake_python(root / "versions" / "3.13.0" / "bin" / "python3", "3 13")

    found = find_interpreter(None, {"PATH": str(shims), "PYENV_ROOT": str(root)})

    assert found == newest


def test_with_no_interpreter_the_error_says_what_to_install(tmp_path: Path) -> None:
    fake_python(tmp_path / "bin" / "python3", "3 11")
    env = {"PATH": str(tmp_path / "bin"), "PYENV_ROOT": str(tmp_path / "none")}
    with pytest.raises(NoInterpreterError, match=r"Python 3\.12 or newer.*Install one"):
        find_interpreter(None, env)


def test_a_venv_is_ready_only_with_the_pinned_release_marked(tmp_path: Path) -> None:
    fake_python(tmp_path / "bin" / "python", "3 12")
    assert not is_ready(tmp_path)
    marker_path(tmp_path).write_text("0.0.1\n")
    assert not is_ready(tmp_path)
    marker_path(tmp_path).write_text(AGENT_SERVER_VERSION + "\n")
    assert is_ready(tmp_path)


BUILDING_PYTHON = """#!/bin/sh
case "$1" in
  -c) echo "3 12"; exit 0 ;;
esac
if [ "$1 $2" = "-m venv" ]; then
  mkdir -p "$3/bin" && touch "$3/pyvenv.cfg" && cp "$0" "$3/bin/python"; exit 0
fi
case "$*" in
  *openhands-sdk*) echo "ERROR: {install_error}" >&2; exit {install_status} ;;
esac
exit 0
"""


def building_python(tmp_path: Path, *, install_error: str = "", install_status: int = 0) -> Path:
    python = tmp_path / "python3.12"
    python.write_text(
        BUILDING_PYTHON.format(install_error=install_error, install_status=install_status)
    )
    python.chmod(python.stat().st_mode | stat.S_IXUSR)
    return python


def test_a_build_marks_the_venv_ready_and_leaves_no_status(tmp_path: Path) -> None:
    venv, status, log = tmp_path / "venv", tmp_path / "host" / "environment.json", tmp_path / "log"
    status.parent.mkdir()

    build(venv, python=str(building_python(tmp_path)), status_file=status, log=log)

    assert is_ready(venv)
    assert not status.exists()
    assert environment_status(venv, status) == EnvironmentStatus(EnvironmentState.READY)


def test_a_failed_build_leaves_its_reason_for_the_server_to_show(tmp_path: Path) -> None:
    venv, status, log = tmp_path / "venv", tmp_path / "environment.json", tmp_path / "log"
    python = building_python(tmp_path, install_error="no space left on device", install_status=1)

    with pytest.raises(BuildFailedError, match="no space left on device"):
        build(venv, python=str(python), status_file=status, log=log)

    found = environment_status(venv, status)
    assert found.state is EnvironmentState.FAILED
    assert found.detail is not None
    assert "installing the agent-server failed with exit code 1" in found.detail
    assert "no space left on device" in found.detail


def test_a_build_that_died_midway_is_failed_not_preparing_forever(tmp_path: Path) -> None:
    venv, status = tmp_path / "venv", tmp_path / "environment.json"
    gone = subprocess.Popen(["true"])
    gone.wait()
    record = {"venv": str(venv), "version": AGENT_SERVER_VERSION, "pid": gone.pid}
    status.write_text(json.dumps({**record, "state": "building", "log": "build.log"}))

    found = environment_status(venv, status)

    assert found.state is EnvironmentState.FAILED
    assert found.detail == "the build stopped before it finished; see build.log"


def test_a_running_build_is_preparing_and_no_build_is_missing(tmp_path: Path) -> None:
    venv, status = tmp_path / "venv", tmp_path / "environment.json"
    assert environment_status(venv, status).state is EnvironmentState.MISSING
    record = {"venv": str(venv), "version": AGENT_SERVER_VERSION, "pid": os.getpid()}
    status.write_text(json.dumps({**record, "state": "building"}))
    assert environment_status(venv, status).state is EnvironmentState.PREPARING
