"""The ``maestrist`` commands the documentation names are the ones the CLI has."""

import contextlib
import io
import re
from pathlib import Path

import pytest

from entrypoints.cli.main import build_parser

ROOT = Path(__file__).resolve().parents[3]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "justfile"]
COMMAND = re.compile(r"\bmaestrist((?: (?:[a-z][a-z-]*|[A-Z]+))+)")
"""``maestrist`` and the words after it: commands, actions and upper-case placeholders."""
PLACEHOLDERS = {
    "ID": "01a24669-ee78-765e-8dbc-6a9d8793477f",
    "ORG": "01a24669-ee78-765e-8dbc-6a9d8793477f",
    "AMOUNT": "25.00",
}


def _documented() -> list[tuple[str, str]]:
    return [
        (document.name, match[1].strip())
        for document in DOCUMENTS
        for match in COMMAND.finditer(document.read_text())
    ]


def test_the_documents_name_commands() -> None:
    assert {"api-key create", "api-key revoke ID", "check-config"} <= {
        command for _, command in _documented()
    }


@pytest.mark.parametrize(("document", "command"), _documented())
def test_every_documented_command_exists(document: str, command: str) -> None:
    """The words parse as a whole command: no unknown word, no missing action."""
    words = [PLACEHOLDERS.get(word, word) for word in command.split()]
    errors = io.StringIO()
    with contextlib.redirect_stderr(errors), contextlib.suppress(SystemExit):
        build_parser().parse_args(words)
        return
    pytest.fail(f"{document} names `maestrist {command}`: {errors.getvalue()}")
