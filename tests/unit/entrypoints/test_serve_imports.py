"""The process ``maestrist serve`` supervises its workers from loads neither the application nor
the adapters: granian forks the workers, which load those themselves."""

import subprocess
import sys

# What the supervising process loads when it starts serving with a runtime other than the
# local one: the CLI module, its settings and granian.
PROBE = """
import sys
import entrypoints.cli.main
import entrypoints.cli.serve
print(" ".join(sorted(name for name in sys.modules if name.split(".")[0] in {NAMES})))
"""

HEAVY = (
    "litestar",
    "sqlalchemy",
    "alembic",
    "advanced_alchemy",
    "adapters",
    "authlib",
    "redis",
    "prometheus_client",
)


def _loaded(probe: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", probe.replace("{NAMES}", repr(set(HEAVY)))],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return {name.split(".")[0] for name in done.stdout.split()}


def test_the_serving_process_imports_no_framework_driver_or_adapter() -> None:
    assert _loaded(PROBE) == set()


def test_the_probe_sees_what_the_composition_root_imports() -> None:
    assert _loaded(PROBE.replace("entrypoints.cli.serve", "entrypoints.ioc")) == set(HEAVY)
