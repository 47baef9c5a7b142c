"""The Cipher contract, held by the fake and by AES-GCM alike."""

import base64
import os
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.crypto import AesGcmCipher
from application.ports.cipher import Cipher, CipherError
from tests.fakes import FakeCipher

KEYS = {name: os.urandom(32) for name in ("k1", "k2", "k3")}

MakeCipher = Callable[..., Cipher]
"""A cipher with the given key ids, the first sealing; the same id means the same key."""


def _aes(*key_ids: str) -> Cipher:
    return AesGcmCipher({key_id: KEYS[key_id] for key_id in key_ids})


def _fake(*key_ids: str) -> Cipher:
    return FakeCipher(key_ids)


CIPHERS = pytest.mark.parametrize("make", [_aes, _fake], ids=["aes-gcm", "fake"])

contexts = st.text(min_size=1, max_size=40)


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@CIPHERS
@given(plaintext=st.text(), context=contexts)
def test_round_trip(make: MakeCipher, plaintext: str, context: str) -> None:
    cipher = make("k1")
    assert cipher.decrypt(cipher.encrypt(plaintext, context=context), context=context) == plaintext


@CIPHERS
@given(plaintext=st.text(), context=contexts, other=contexts)
def test_another_context_does_not_open(
    make: MakeCipher, plaintext: str, context: str, other: str
) -> None:
    cipher = make("k1")
    sealed = cipher.encrypt(plaintext, context=context)
    if other != context:
        with pytest.raises(CipherError):
            cipher.decrypt(sealed, context=other)


@CIPHERS
@given(plaintext=st.text(min_size=8), context=contexts)
def test_the_ciphertext_never_shows_the_plaintext(
    make: MakeCipher, plaintext: str, context: str
) -> None:
    assert plaintext not in make("k1").encrypt(plaintext, context=context)


@CIPHERS
@given(
    plaintext=st.text(max_size=60),
    segment=st.sampled_from([2, 3]),
    position=st.integers(min_value=0),
    bit=st.integers(min_value=0, max_value=7),
)
def test_a_tampered_ciphertext_does_not_open(
    make: MakeCipher, plaintext: str, segment: int, position: int, bit: int
) -> None:
    """Any one bit flipped in either sealed segment (``v1.<key id>.<segment 2>.<segment 3>``)
    makes it fail, as an AEAD tag does."""
    cipher = make("k1")
    parts = cipher.encrypt(plaintext, context="session:1:access").split(".")
    raw = bytearray(_unb64(parts[segment]))
    raw[position % len(raw)] ^= 1 << bit
    parts[segment] = _b64(bytes(raw))
    with pytest.raises(CipherError):
        cipher.decrypt(".".join(parts), context="session:1:access")


@CIPHERS
def test_truncated_relabelled_or_foreign_text_does_not_open(make: MakeCipher) -> None:
    both = make("k1", "k2")
    sealed = both.encrypt("secret value", context="c")
    version, key_id, middle, body = sealed.split(".")
    truncated = f"{version}.{key_id}.{middle}.{_b64(_unb64(body)[:-1])}"
    relabelled = f"{version}.k2.{middle}.{body}"
    for bad in (truncated, relabelled, "plain text", "", "v1.k1", f"{sealed}.extra"):
        with pytest.raises(CipherError):
            both.decrypt(bad, context="c")
    with pytest.raises(CipherError):
        both.key_id_of("plain text")


@CIPHERS
@given(segment=st.sampled_from([2, 3]), junk=st.sampled_from(["=", "+", "/", " ", "\n", "*"]))
def test_a_ciphertext_has_one_spelling(make: MakeCipher, segment: int, junk: str) -> None:
    """Padding, standard-alphabet or stray characters, or a different spelling of the same
    bytes are refused: what opens is exactly what ``encrypt`` wrote."""
    cipher = make("k1")
    sealed = cipher.encrypt("secret value", context="c")
    parts = sealed.split(".")
    parts[segment] = parts[segment] + junk
    with pytest.raises(CipherError):
        cipher.decrypt(".".join(parts), context="c")


def test_aes_gcm_refuses_a_non_canonical_spelling_of_the_same_bytes() -> None:
    """Unpadded base64url whose last character carries unused bits has several spellings of
    one byte string; only the canonical one opens."""
    cipher = _aes("k1")
    parts = cipher.encrypt("x", context="c").split(".")
    body = parts[3]
    remainder_bits = (len(body) * 6) % 8
    assert remainder_bits, "a 17-byte body leaves unused bits in its last character"
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(body[-1])
    parts[3] = body[:-1] + alphabet[last ^ 1]
    with pytest.raises(CipherError):
        cipher.decrypt(".".join(parts), context="c")


@CIPHERS
@given(plaintext=st.text(max_size=40))
def test_the_ciphertext_names_its_key_in_its_prefix(make: MakeCipher, plaintext: str) -> None:
    """``v1.<key id>.``: SqlaSealedRecords finds values another key sealed by that prefix."""
    cipher = make("k2", "k1")
    sealed = cipher.encrypt(plaintext, context="c")
    assert cipher.current_key_id == "k2"
    assert cipher.key_id_of(sealed) == "k2"
    assert sealed.startswith("v1.k2.")


@CIPHERS
def test_keys_rotate(make: MakeCipher) -> None:
    old = make("k1").encrypt("token", context="c")
    rotated = make("k2", "k1")
    assert rotated.key_id_of(old) == "k1"
    assert rotated.decrypt(old, context="c") == "token"
    new = rotated.encrypt("token", context="c")
    assert rotated.key_id_of(new) == rotated.current_key_id == "k2"
    assert make("k2").decrypt(new, context="c") == "token"
    for without_k1 in (make("k2"), make("k3", "k2")):
        with pytest.raises(CipherError):
            without_k1.decrypt(old, context="c")


@CIPHERS
@given(plaintext=st.text(max_size=40), context=contexts)
def test_sealing_the_same_value_twice_gives_two_ciphertexts(
    make: MakeCipher, plaintext: str, context: str
) -> None:
    """A fresh nonce per encryption: equal ciphertexts would tell a reader which rows hold the
    same secret, and a repeated AES-GCM nonce under one key gives away the keystream."""
    cipher = make("k1")
    first = cipher.encrypt(plaintext, context=context)
    second = cipher.encrypt(plaintext, context=context)
    assert first != second
    assert first.split(".")[2] != second.split(".")[2]
    assert cipher.decrypt(first, context=context) == cipher.decrypt(second, context=context)
    assert cipher.decrypt(second, context=context) == plaintext
