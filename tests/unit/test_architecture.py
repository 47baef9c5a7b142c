"""The port rule, kept true as packages are added: a port is a Protocol an adapter implements,
every port lives in ``application.ports``, and import-linter forbids adapters and ports every
other part of the application."""

import ast
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"
SEEN_BY_ADAPTERS = {"ports", "errors", "tasks"}


def _port_contract() -> dict[str, Any]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contracts = config["tool"]["importlinter"]["contracts"]
    contract: dict[str, Any]
    (contract,) = [c for c in contracts if c["name"].startswith("Ports live in application.ports")]
    return dict(contract)


def _defines_protocol(path: Path) -> bool:
    tree = ast.parse(path.read_text())
    return any(
        isinstance(node, ast.ClassDef)
        and any(isinstance(b, ast.Name) and b.id == "Protocol" for b in node.bases)
        for node in tree.body
    )


def test_the_port_contract_forbids_every_part_of_the_application_but_ports_errors_tasks() -> None:
    parts = {
        path.stem if path.is_file() else path.name
        for path in (SRC / "application").iterdir()
        if (path.suffix == ".py" and path.stem != "__init__")
        or (path.is_dir() and (path / "__init__.py").exists())
    }
    expected = {f"application.{part}" for part in parts - SEEN_BY_ADAPTERS}
    contract: dict[str, Any] = _port_contract()
    assert set(contract["source_modules"]) == {"adapters", "application.ports"}
    assert set(contract["forbidden_modules"]) == expected


def test_the_domain_defines_no_port() -> None:
    """A Protocol in the application outside ``application.ports`` is implemented inside the
    application only (the contract above keeps adapters from reaching it); the domain has none."""
    defining = [path for path in (SRC / "domain").rglob("*.py") if _defines_protocol(path)]
    assert defining == []
