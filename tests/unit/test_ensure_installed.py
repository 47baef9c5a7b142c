"""`just` installs the project only when the virtualenv does not hold it as pyproject.toml says,
so a first `just serve` after the README's `pip install -e '.[dev]'` starts at once."""

import json
import tomllib
from importlib.metadata import distributions
from typing import Any

import pytest
from scripts.ensure_installed import ROOT, installed_as_declared


def declared() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


@pytest.fixture
def editable_here() -> None:
    origins = [
        json.loads(found.read_text("direct_url.json") or "{}").get("url")
        for found in distributions(name="maestrist-enterprise-server")
    ]
    if ROOT.as_uri() not in origins:
        pytest.skip("this virtualenv does not hold an editable install of this checkout")


@pytest.mark.usefixtures("editable_here")
def test_an_install_made_by_hand_as_declared_is_taken() -> None:
    assert installed_as_declared(declared())


@pytest.mark.usefixtures("editable_here")
@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda p: p["project"]["dependencies"].append("httpx==0.0.1"), id="pin"),
        pytest.param(
            lambda p: p["project"]["optional-dependencies"]["dev"].append("no-such-tool==1"),
            id="new-tool",
        ),
        pytest.param(lambda p: p["project"].update(version="9.9.9"), id="version"),
    ],
)
def test_a_changed_pyproject_is_installed_again(change: Any) -> None:
    pyproject = declared()
    change(pyproject)
    assert not installed_as_declared(pyproject)
