"""The README's list of API key scopes is the list the server knows."""

import re
from pathlib import Path

from domain.identity.scopes import Scope

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_the_api_keys_paragraph_lists_every_scope() -> None:
    paragraph = " ".join(README.split("- **API keys:**", 1)[1].split("\n- ", 1)[0].split())
    listed = paragraph.split("scopes (", 1)[1].split(")", 1)[0]
    assert re.findall(r"`([a-z]+:[a-z]+)`", listed) == [scope.value for scope in Scope]
