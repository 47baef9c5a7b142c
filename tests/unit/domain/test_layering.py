"""Domain and application import only the standard library and the layers inside them."""

import ast
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[3] / "src"

ALLOWED = {"domain": {"domain"}, "application": {"domain", "application"}}


def _imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.partition(".")[0])
    return roots


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_layer_imports_only_stdlib_and_inner_layers(layer: str) -> None:
    offenders = {}
    for path in sorted((SRC / layer).rglob("*.py")):
        foreign = _imported_roots(path) - sys.stdlib_module_names - ALLOWED[layer]
        if foreign:
            offenders[str(path.relative_to(SRC))] = sorted(foreign)
    assert offenders == {}
