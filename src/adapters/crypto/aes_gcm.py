import base64
import os
from collections.abc import Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from application.ports.cipher import Cipher, CipherError

__all__ = ("AesGcmCipher",)

_VERSION = "v1"
_NONCE_BYTES = 12


def _b64decode(text: str) -> bytes:
    """Strict unpadded base64url: any other character, or a non-canonical encoding, is refused
    so one ciphertext has exactly one spelling."""
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (ValueError, TypeError) as exc:
        raise CipherError("the ciphertext is not base64url") from exc
    if _b64encode(raw) != text:
        raise CipherError("the ciphertext is not canonical base64url")
    return raw


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class AesGcmCipher(Cipher):
    """AES-256-GCM: ``v1.<key id>.<nonce>.<ciphertext+tag>``, context as associated data."""

    def __init__(self, keys: Mapping[str, bytes]) -> None:
        if not keys:
            raise ValueError("AesGcmCipher needs at least one key")
        self._keys = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self._current = next(iter(keys))

    def encrypt(self, plaintext: str, *, context: str) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._keys[self._current].encrypt(nonce, plaintext.encode(), context.encode())
        return f"{_VERSION}.{self._current}.{_b64encode(nonce)}.{_b64encode(sealed)}"

    def decrypt(self, ciphertext: str, *, context: str) -> str:
        _, key_id, nonce, sealed = self._split(ciphertext)
        key = self._keys.get(key_id)
        if key is None:
            raise CipherError(f"no configured key has the id {key_id}")
        try:
            return key.decrypt(_b64decode(nonce), _b64decode(sealed), context.encode()).decode()
        except (InvalidTag, ValueError) as exc:
            raise CipherError("the ciphertext does not open with its key and context") from exc

    @property
    def current_key_id(self) -> str:
        return self._current

    def key_id_of(self, ciphertext: str) -> str:
        return self._split(ciphertext)[1]

    @staticmethod
    def _split(ciphertext: str) -> tuple[str, str, str, str]:
        parts = ciphertext.split(".")
        if len(parts) != 4 or parts[0] != _VERSION:
            raise CipherError("not a ciphertext of this cipher")
        return parts[0], parts[1], parts[2], parts[3]
