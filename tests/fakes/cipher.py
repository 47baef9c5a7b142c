import base64
import binascii
import hashlib
import hmac
import os
from collections.abc import Iterable

from application.ports.cipher import Cipher, CipherError

_VERSION = "v1"
"""The prefix AesGcmCipher writes too: SqlaSealedRecords finds stale rows by ``v1.<key id>.``."""
_NONCE_BYTES = 12


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _b64decode(text: str) -> bytes:
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CipherError("the ciphertext is not base64url") from exc
    if _b64encode(raw) != text:
        raise CipherError("the ciphertext is not canonical base64url")
    return raw


def _check(key_id: str, nonce: str, context: str, plaintext: str) -> bytes:
    return hashlib.sha256(f"{key_id}\0{nonce}\0{context}\0{plaintext}".encode()).digest()[:12]


class FakeCipher(Cipher):
    """Reversible, never plaintext: ``v1.<key id>.<check>.<base64 of nonce, context, value>``.

    Not encryption (anyone can read the body back), but it keeps the port's promises: the
    first key id seals and every configured key id opens, a value opens only under the context
    it was sealed with, every encryption draws a fresh random nonce (so sealing one value twice
    gives two ciphertexts), and ``check`` (a hash of key id, nonce, context and value, standing
    in for an AEAD tag) makes any edit of the ciphertext fail with ``CipherError``.
    """

    def __init__(self, key_ids: Iterable[str] = ("fake",)) -> None:
        self._key_ids = tuple(key_ids)
        if not self._key_ids:
            raise ValueError("FakeCipher needs at least one key id")
        if any(not key_id or "." in key_id for key_id in self._key_ids):
            raise ValueError("a key id is a non-empty name without dots")

    @property
    def current_key_id(self) -> str:
        return self._key_ids[0]

    def encrypt(self, plaintext: str, *, context: str) -> str:
        key_id = self.current_key_id
        nonce = os.urandom(_NONCE_BYTES).hex()
        body = _b64encode(f"{nonce}{len(context)}:{context}{plaintext}".encode())
        check = _b64encode(_check(key_id, nonce, context, plaintext))
        return f"{_VERSION}.{key_id}.{check}.{body}"

    def decrypt(self, ciphertext: str, *, context: str) -> str:
        key_id, check, body = self._split(ciphertext)
        if key_id not in self._key_ids:
            raise CipherError(f"no configured key has the id {key_id}")
        try:
            decoded = _b64decode(body).decode()
            nonce, decoded = decoded[: 2 * _NONCE_BYTES], decoded[2 * _NONCE_BYTES :]
            length, colon, rest = decoded.partition(":")
            if not colon or not length.isascii() or not length.isdigit() or int(length) > len(rest):
                raise CipherError("the ciphertext's body is malformed")
            sealed_context, plaintext = rest[: int(length)], rest[int(length) :]
        except UnicodeDecodeError as exc:
            raise CipherError("the ciphertext's body is malformed") from exc
        if not hmac.compare_digest(
            _b64decode(check), _check(key_id, nonce, sealed_context, plaintext)
        ):
            raise CipherError("the ciphertext was tampered with")
        if sealed_context != context:
            raise CipherError("the ciphertext belongs to another context")
        return plaintext

    def key_id_of(self, ciphertext: str) -> str:
        return self._split(ciphertext)[0]

    @staticmethod
    def _split(ciphertext: str) -> tuple[str, str, str]:
        parts = ciphertext.split(".")
        if len(parts) != 4 or parts[0] != _VERSION:
            raise CipherError("not a ciphertext of this cipher")
        return parts[1], parts[2], parts[3]
