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

KEYS = {name: os.urandom(32) for name in ("k1", "k2")}


def _aes(*key_ids: str) -> Cipher:
    return AesGcmCipher({key_id: KEYS[key_id] for key_id in key_ids})


def _fake(*key_ids: str) -> Cipher:
    return FakeCipher(key_ids)


CIPHERS = pytest.mark.parametrize("make", [_aes, _fake], ids=["aes-gcm", "fake"])
MakeCipher = Callable[..., Cipher]


@CIPHERS
@given(plaintext=st.text(), context=st.text(min_size=1, max_size=40))
def test_round_trip(make: MakeCipher, plaintext: str, context: str) -> None:
    cipher = make("k1")
    assert cipher.decrypt(cipher.encrypt(plaintext, context=context), context=context) == plaintext


@CIPHERS
@given(plaintext=st.text(min_size=8))
def test_ciphertext_never_shows_the_plaintext(make: MakeCipher, plaintext: str) -> None:
    assert plaintext not in make("k1").encrypt(plaintext, context="c")


@CIPHERS
def test_another_context_or_a_tampered_ciphertext_does_not_open(make: MakeCipher) -> None:
    cipher = make("k1")
    sealed = cipher.encrypt("secret value", context="session:1:access")
    with pytest.raises(CipherError):
        cipher.decrypt(sealed, context="session:2:access")
    head, _, body = sealed.rpartition(".")
    flipped = base64.urlsafe_b64encode(
        bytes([base64.urlsafe_b64decode(body + "==")[0] ^ 1])
        + base64.urlsafe_b64decode(body + "==")[1:]
    ).decode()
    with pytest.raises(CipherError):
        cipher.decrypt(f"{head}.{flipped.rstrip('=')}", context="session:1:access")
    with pytest.raises(CipherError):
        cipher.decrypt("plain text", context="session:1:access")


@CIPHERS
def test_keys_rotate(make: MakeCipher) -> None:
    old = make("k1").encrypt("token", context="c")
    rotated = make("k2", "k1")
    assert rotated.key_id_of(old) == "k1"
    assert rotated.decrypt(old, context="c") == "token"
    new = rotated.encrypt("token", context="c")
    assert rotated.key_id_of(new) == rotated.current_key_id == "k2"
    with pytest.raises(CipherError):
        make("k2").decrypt(old, context="c")
