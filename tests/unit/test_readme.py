"""The README stays true: its settings table and its test command are the real ones."""

import re
from pathlib import Path

from entrypoints.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def test_every_setting_is_documented_with_its_default() -> None:
    for name, default, doc in Settings.reference():
        row = next((line for line in README.splitlines() if line.startswith(f"| `{name}` |")), None)
        assert row is not None, f"{name} is missing from the README"
        assert default in row
        assert doc in row


def test_quick_start_has_two_commands_and_ci_runs_the_test_one() -> None:
    quick_start = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```sh\n(.+?)\n```", quick_start)
    assert len(commands) == 2
    assert commands[0].endswith("just serve")
    assert commands[1].endswith("just test")
    assert commands[1] in (ROOT / ".ci" / "run").read_text()
