"""The TokenSigner contract, held by the fake and by the JWS signer alike."""

import base64
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.crypto import JwsTokenSigner
from application.ports.token_signer import CredentialRejectedError, TokenSigner
from tests.fakes.token_signer import FakeTokenSigner

KEYS = {name: os.urandom(32) for name in ("s1", "s2", "s3")}
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=10)

MakeSigner = Callable[..., TokenSigner]


def _jws(*key_ids: str) -> TokenSigner:
    return JwsTokenSigner({key_id: KEYS[key_id] for key_id in key_ids})


def _fake(*key_ids: str) -> TokenSigner:
    return FakeTokenSigner(key_ids)


SIGNERS = pytest.mark.parametrize("make", [_jws, _fake], ids=["jws", "fake"])

claim_names = st.text(
    alphabet=st.characters(min_codepoint=97, max_codepoint=122), min_size=1, max_size=8
).filter(lambda name: name not in {"aud", "exp", "iat", "nbf", "iss", "jti"})


@SIGNERS
@given(claims=st.dictionaries(claim_names, st.text(max_size=30), max_size=4))
def test_claims_come_back_as_signed(make: MakeSigner, claims: dict[str, str]) -> None:
    signer = make("s1")
    token = signer.sign(claims, audience="here", issued_at=NOW, expires_at=LATER)
    assert signer.verify(token, audience="here", now=NOW + timedelta(minutes=9)) == claims


@SIGNERS
def test_an_expired_token_is_rejected(make: MakeSigner) -> None:
    signer = make("s1")
    token = signer.sign({"sub": "u"}, audience="here", issued_at=NOW, expires_at=LATER)
    for moment in (LATER, LATER + timedelta(days=1)):
        with pytest.raises(CredentialRejectedError):
            signer.verify(token, audience="here", now=moment)


@SIGNERS
def test_a_token_for_another_audience_is_rejected(make: MakeSigner) -> None:
    signer = make("s1")
    token = signer.sign({"sub": "u"}, audience="there", issued_at=NOW, expires_at=LATER)
    with pytest.raises(CredentialRejectedError):
        signer.verify(token, audience="here", now=NOW)


@SIGNERS
@given(position=st.integers(min_value=0), replacement=st.sampled_from("AaZz09-_."))
def test_any_edit_is_rejected(make: MakeSigner, position: int, replacement: str) -> None:
    signer = make("s1")
    token = signer.sign({"sub": "u"}, audience="here", issued_at=NOW, expires_at=LATER)
    index = position % len(token)
    edited = token[:index] + replacement + token[index + 1 :]
    if edited == token:
        return
    try:
        claims = signer.verify(edited, audience="here", now=NOW)
    except CredentialRejectedError:
        return
    # Base64url's last character may carry unused bits: an edit there can leave the decoded
    # bytes, and so the signature, the same. Then nothing was forged.
    assert claims == {"sub": "u"}


@SIGNERS
def test_garbage_is_rejected(make: MakeSigner) -> None:
    signer = make("s1")
    for junk in ("", "a.b.c", "a.b.c.d", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1In0.", "x" * 500):
        with pytest.raises(CredentialRejectedError):
            signer.verify(junk, audience="here", now=NOW)


@SIGNERS
def test_keys_rotate(make: MakeSigner) -> None:
    """The first key signs; any listed key verifies; a removed key's tokens stop working."""
    old = make("s1")
    token = old.sign({"sub": "u"}, audience="here", issued_at=NOW, expires_at=LATER)
    both = make("s2", "s1")
    assert both.verify(token, audience="here", now=NOW) == {"sub": "u"}
    newer = both.sign({"sub": "v"}, audience="here", issued_at=NOW, expires_at=LATER)
    assert make("s2").verify(newer, audience="here", now=NOW) == {"sub": "v"}
    with pytest.raises(CredentialRejectedError):
        make("s2").verify(token, audience="here", now=NOW)
    with pytest.raises(CredentialRejectedError):
        make("s3").verify(newer, audience="here", now=NOW)


def test_jws_refuses_the_none_algorithm_and_unsigned_tokens() -> None:
    signer = _jws("s1")
    token = signer.sign({"sub": "u"}, audience="here", issued_at=NOW, expires_at=LATER)
    header, body, _ = token.split(".")
    none_header = base64.urlsafe_b64encode(b'{"alg":"none","kid":"s1"}').rstrip(b"=").decode()
    for forged in (f"{none_header}.{body}.", f"{header}.{body}."):
        with pytest.raises(CredentialRejectedError):
            signer.verify(forged, audience="here", now=NOW)


def test_jws_reserves_the_registered_claims() -> None:
    with pytest.raises(ValueError, match="exp"):
        _jws("s1").sign({"exp": "0"}, audience="here", issued_at=NOW, expires_at=LATER)
