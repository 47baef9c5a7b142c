import base64

from application.ports.cipher import Cipher, CipherError


class FakeCipher(Cipher):
    """Reversible, never plaintext: base64 of context and value, tagged with a key id."""

    def __init__(self, key_ids: tuple[str, ...] = ("fake",)) -> None:
        self._key_ids = key_ids

    @property
    def current_key_id(self) -> str:
        return self._key_ids[0]

    def encrypt(self, plaintext: str, *, context: str) -> str:
        body = base64.urlsafe_b64encode(f"{len(context)}:{context}{plaintext}".encode()).decode()
        return f"v1.{self.current_key_id}.fake.{body}"

    def decrypt(self, ciphertext: str, *, context: str) -> str:
        key_id = self.key_id_of(ciphertext)
        if key_id not in self._key_ids:
            raise CipherError(f"no configured key has the id {key_id}")
        try:
            decoded = base64.urlsafe_b64decode(ciphertext.split(".", 3)[3]).decode()
            length, _, rest = decoded.partition(":")
            sealed_context, plaintext = rest[: int(length)], rest[int(length) :]
        except ValueError as exc:
            raise CipherError("tampered ciphertext") from exc
        if sealed_context != context:
            raise CipherError("the ciphertext belongs to another context")
        return plaintext

    def key_id_of(self, ciphertext: str) -> str:
        parts = ciphertext.split(".", 3)
        if len(parts) != 4 or parts[0] != "v1":
            raise CipherError("not a ciphertext of this cipher")
        return parts[1]
