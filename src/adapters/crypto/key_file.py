import base64
import os
import secrets
import time
from pathlib import Path

__all__ = ("load_or_create_key_file",)

KEY_FILE = "encryption-keys"


def load_or_create_key_file(data_dir: Path) -> str:
    """The embedded binding's keys, ``id:base64url`` lines in a file only the owner can read.

    Made on first use, so a laptop install encrypts its secrets without any setting; an
    operator who sets ``MAESTRIST_ENCRYPTION_KEYS`` never reaches this.
    """
    path = data_dir / KEY_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        key = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(f"k{time.strftime('%Y%m%d')}:{key}\n")
    return ",".join(line.strip() for line in path.read_text().splitlines() if line.strip())
