from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.identity.api_keys import (
    LAST_USED_RESOLUTION,
    ApiKeyName,
    ApiKeyToken,
    issue_token,
    secret_hash,
)
from domain.identity.errors import InvalidApiKeyNameError
from domain.organizations.entities import OrgId
from domain.shared.ids import new_id
from tests.factories import T0, create_api_key, create_user


def test_issued_tokens_parse_back_and_never_repeat() -> None:
    tokens = [issue_token() for _ in range(500)]
    assert len({str(t) for t in tokens}) == 500
    for token in tokens:
        assert ApiKeyToken.parse(str(token)) == token
        assert str(token).startswith(token.prefix + "_")
        assert token.secret not in token.prefix


@given(st.text(max_size=80))
def test_any_string_parses_only_if_it_has_the_exact_shape(raw: str) -> None:
    parsed = ApiKeyToken.parse(raw)
    if parsed is not None:
        assert str(parsed) == raw


@given(st.data())
def test_a_key_matches_its_own_token_only(data: st.DataObject) -> None:
    key, token = create_api_key(create_user(), OrgId(new_id()))
    assert key.matches(token)
    position = data.draw(st.integers(0, len(token.secret) - 1))
    alphabet = "ABCxyz019-_"
    offset = data.draw(st.integers(0, len(alphabet) - 1))
    rotated = alphabet[offset:] + alphabet[:offset]
    # the token is random per run, so the choice must not be a strategy that depends on it
    replacement = next(c for c in rotated if c != token.secret[position])
    tampered = ApiKeyToken(
        lookup=token.lookup,
        secret=token.secret[:position] + replacement + token.secret[position + 1 :],
    )
    assert not key.matches(tampered)
    assert not key.matches(issue_token())


def test_only_the_hash_of_the_secret_is_kept() -> None:
    key, token = create_api_key(create_user(), OrgId(new_id()))
    assert key.secret_hash == secret_hash(token.secret)
    assert token.secret not in repr(key)
    assert key.prefix == token.prefix


def test_usable_until_expiry_or_revocation() -> None:
    key, _ = create_api_key(create_user(), OrgId(new_id()), expires_at=T0 + timedelta(days=1))
    assert key.is_usable(T0)
    assert not key.is_usable(T0 + timedelta(days=1))
    assert not key.revoked(T0).is_usable(T0)
    assert key.revoked(T0).revoked(T0 + timedelta(hours=1)).revoked_at == T0


def test_last_use_is_recorded_at_most_once_a_minute() -> None:
    key, _ = create_api_key(create_user(), OrgId(new_id()))
    assert key.needs_touch(T0)
    touched = key.touched(T0)
    assert not touched.needs_touch(T0 + LAST_USED_RESOLUTION - timedelta(seconds=1))
    assert touched.needs_touch(T0 + LAST_USED_RESOLUTION)


def test_what_a_key_proves_holds_until_its_expiry_or_its_next_recorded_use() -> None:
    day = T0 + timedelta(days=1)
    never_used, _ = create_api_key(create_user(), OrgId(new_id()))
    assert never_used.proof_valid_until() is None
    expiring, _ = create_api_key(create_user(), OrgId(new_id()), expires_at=day)
    assert expiring.proof_valid_until() == day
    assert never_used.touched(T0).proof_valid_until() == T0 + LAST_USED_RESOLUTION
    late = day - timedelta(seconds=1)
    assert expiring.touched(late).proof_valid_until() == day


def test_a_token_with_a_secret_of_another_length_does_not_parse() -> None:
    token = str(issue_token())
    assert ApiKeyToken.parse(token) is not None
    assert ApiKeyToken.parse(token[:-1]) is None
    assert ApiKeyToken.parse(token + "A") is None


def test_a_key_name_of_the_longest_length_is_taken_and_a_bad_one_is_told_why() -> None:
    assert ApiKeyName("x" * ApiKeyName.MAX_LENGTH).value == "x" * 100
    with pytest.raises(InvalidApiKeyNameError) as refused:
        ApiKeyName("")
    assert str(refused.value) == "A key name has 1 to 100 printable characters."


@pytest.mark.parametrize("raw", ["", "   ", "x" * 101, "bell\x07", "nul\x00", "zero\u200bwidth"])
def test_bad_key_names_are_refused(raw: str) -> None:
    with pytest.raises(InvalidApiKeyNameError):
        ApiKeyName(raw)
