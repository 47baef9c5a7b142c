"""Each provider module builds the adapters of its own family only, so a family's wiring is
found, and changed, in one file."""

import ast
from pathlib import Path

IOC = Path(__file__).resolve().parents[3] / "src" / "entrypoints" / "ioc"

FAMILY_ADAPTERS = {
    "sqlalchemy": {"sqlalchemy"},
    "redis": {"redis"},
    "embedded": {"memory"},
    "identity": {"oidc", "keycloak"},
    "git_providers": {"git_providers"},
    "crypto": {"crypto"},
    "system": {"system"},
    "runtime": {"openhands", "scripted"},
    "mail": {"mail"},
    "prometheus": {"prometheus"},
    "analytics": {"posthog", "noop"},
    "stripe": {"stripe"},
}
"""The adapter packages each family's provider module may build; other provider modules
(the use cases, the HTTP edge, readiness, the registry) build none."""


def _adapter_packages(tree: ast.Module) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        names = (
            [node.module or ""]
            if isinstance(node, ast.ImportFrom)
            else [alias.name for alias in node.names]
            if isinstance(node, ast.Import)
            else []
        )
        found |= {name.split(".")[1] for name in names if name.startswith("adapters.")}
    return found


def _defines_provider(tree: ast.Module) -> bool:
    return any(
        isinstance(node, ast.ClassDef)
        and any(isinstance(base, ast.Name) and base.id == "Provider" for base in node.bases)
        for node in tree.body
    )


def test_provider_modules_build_only_their_own_familys_adapters() -> None:
    checked = set()
    for path in sorted(IOC.glob("*.py")):
        tree = ast.parse(path.read_text())
        if not _defines_provider(tree):
            continue
        checked.add(path.stem)
        allowed = FAMILY_ADAPTERS.get(path.stem, set())
        assert _adapter_packages(tree) <= allowed, f"{path.name} builds another family's adapters"
    assert set(FAMILY_ADAPTERS) <= checked
    assert {"application", "http", "readiness", "conversations"} <= checked
