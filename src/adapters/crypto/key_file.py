import base64
import os
import secrets
import time
from pathlib import Path

__all__ = ("KEY_FILE", "SIGNING_KEY_FILE", "load_or_create_key_file")

KEY_FILE = "encryption-keys"
SIGNING_KEY_FILE = "signing-keys"


def load_or_create_key_file(data_dir: Path, name: str = KEY_FILE) -> str:
    """The embedded binding's keys, ``id:base64url`` lines in a file only the owner can read.

    Made on first use, so a laptop install encrypts its secrets and signs its credentials
    without any setting; an operator who sets ``MAESTRIST_ENCRYPTION_KEYS`` or
    ``MAESTRIST_SIGNING_KEYS`` never reaches this. ``name`` tells the two files apart, so a
    signing key is never an encryption key.
    """
    path = data_dir / name
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        key = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(f"k{time.strftime('%Y%m%d')}:{key}\n")
    return ",".join(line.strip() for line in path.read_text().splitlines() if line.strip())
