from abc import abstractmethod
from typing import Protocol

__all__ = ("Cipher", "CipherError")


class CipherError(Exception):
    """A ciphertext that no configured key opens, or that was tampered with."""


class Cipher(Protocol):
    """Authenticated encryption for what users entrust to us (tokens, keys, secrets).

    Every ciphertext names the key that sealed it: the newest key seals, every configured key
    opens, so keys can rotate without losing data.
    """

    @abstractmethod
    def encrypt(self, plaintext: str, *, context: str) -> str:
        """Seal ``plaintext``; ``context`` (for example ``"session:<id>:access"``) is bound to
        the ciphertext, so it cannot be moved to another row or field."""

    @abstractmethod
    def decrypt(self, ciphertext: str, *, context: str) -> str:
        """Open what ``encrypt`` sealed with the same context; raises ``CipherError``."""

    @abstractmethod
    def key_id_of(self, ciphertext: str) -> str:
        """The id of the key that sealed ``ciphertext``."""

    @property
    @abstractmethod
    def current_key_id(self) -> str:
        """The key that seals new values."""
