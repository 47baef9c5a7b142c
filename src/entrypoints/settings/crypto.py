"""The keys that seal what users entrust to the server and sign its short-lived credentials."""

import base64
import re
from dataclasses import dataclass

from entrypoints.settings.fields import Binding, Section, setting

__all__ = ("CryptoSettings", "parse_encryption_keys")

_KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")


def parse_encryption_keys(spec: str) -> dict[str, bytes]:
    """``id:base64url-key,...`` -> ordered mapping of 32-byte keys; the first one seals."""
    keys: dict[str, bytes] = {}
    for part in (p.strip() for p in spec.split(",") if p.strip()):
        key_id, sep, encoded = part.partition(":")
        if not sep or not _KEY_ID.fullmatch(key_id):
            raise ValueError("write each key as id:base64url-of-32-bytes, ids of A-Z a-z 0-9 _ -")
        try:
            key = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        except ValueError:
            raise ValueError(f"key {key_id} is not base64url") from None
        if len(key) != 32:
            raise ValueError(f"key {key_id} has {len(key)} bytes; 32 are needed")
        if key_id in keys:
            raise ValueError(f"key id {key_id} appears twice")
        keys[key_id] = key
    if not keys:
        raise ValueError("at least one key is needed")
    return keys


def _keys(raw: str) -> str:
    parse_encryption_keys(raw)
    return raw


@dataclass(frozen=True, slots=True, kw_only=True)
class CryptoSettings(Section):
    """Encryption keys (AES-256-GCM) and signing keys, each a rotating list."""

    encryption_keys: str | None = setting(
        "MAESTRIST_ENCRYPTION_KEYS",
        "Keys sealing what users entrust to us (tokens, LLM keys, secrets): "
        "`id:base64url-32-bytes,...`; the first seals, all open. Required in the clustered "
        "binding. Make one with `maestrist new-key`. The embedded binding, without it, keeps a "
        "generated key in `<MAESTRIST_DATA_DIR>/encryption-keys` (0600).",
        _keys,
        default=None,
        secret=True,
    )
    signing_keys: str | None = setting(
        "MAESTRIST_SIGNING_KEYS",
        "Keys signing short-lived credentials (the agent runtime's git token grant), never "
        "the same as an encryption key: `id:base64url-32-bytes,...`; the first signs, all "
        "verify. Required in the clustered binding. Make one with `maestrist new-key`. The "
        "embedded binding, without it, keeps a generated key in "
        "`<MAESTRIST_DATA_DIR>/signing-keys` (0600).",
        _keys,
        default=None,
        secret=True,
    )

    @property
    def encryption_key_map(self) -> dict[str, bytes]:
        return parse_encryption_keys(self.encryption_keys or "")

    @property
    def signing_key_map(self) -> dict[str, bytes]:
        return parse_encryption_keys(self.signing_keys or "")

    def problems(self, binding: Binding) -> dict[str, str]:
        if binding is Binding.EMBEDDED:
            return {}
        found = {
            name: "required when MAESTRIST_BINDING=clustered (`maestrist new-key`)"
            for name, value in (
                ("MAESTRIST_ENCRYPTION_KEYS", self.encryption_keys),
                ("MAESTRIST_SIGNING_KEYS", self.signing_keys),
            )
            if value is None
        }
        if (
            self.encryption_keys is not None
            and self.signing_keys is not None
            and set(self.encryption_key_map.values()) & set(self.signing_key_map.values())
        ):
            found["MAESTRIST_SIGNING_KEYS"] = "a signing key must not also be an encryption key"
        return found
