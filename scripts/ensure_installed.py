"""Install the project into the running virtualenv when pyproject.toml changed since last time."""

import hashlib
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MARKER = Path(sys.prefix) / ".maestrist-installed"


def main() -> int:
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if MARKER.exists() and MARKER.read_text() == digest:
        return 0
    command = [sys.executable, "-m", "pip", "install", "--quiet", "-e", f"{ROOT}[dev]"]
    subprocess.run(command, check=True)
    MARKER.write_text(digest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
