import stat
from pathlib import Path

import pytest

from adapters.openhands.agent_server_env import (
    AGENT_SERVER_VERSION,
    NoInterpreterError,
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
