"""Custom secret names, values and descriptions."""

import re
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.secrets import (
    InvalidSecretDescriptionError,
    InvalidSecretNameError,
    InvalidSecretValueError,
    SecretDescription,
    SecretName,
    SecretValue,
)

ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,63}", fullmatch=True).filter(
    lambda n: (
        n.upper() not in SecretName.RESERVED
        and not n.upper().startswith(SecretName.RESERVED_PREFIXES)
    )
)


@given(names)
def test_environment_variable_names_round_trip(raw: str) -> None:
    assert SecretName(raw).value == raw


@given(st.text(max_size=80))
def test_any_text_is_a_name_or_refused_naming_the_field(raw: str) -> None:
    try:
        name = SecretName(raw)
    except InvalidSecretNameError as exc:
        assert exc.field == "name"
    else:
        assert ENV_NAME.fullmatch(name.value)
        assert len(name.value) <= SecretName.MAX_LENGTH


@pytest.mark.parametrize(
    "raw",
    ["", "1ABC", "A-B", "A B", "É", "x" * 65, "PATH", "path", "GITHUB_TOKEN", "MAESTRIST_X"],
)
def test_malformed_or_reserved_names_are_refused(raw: str) -> None:
    with pytest.raises(InvalidSecretNameError):
        SecretName(raw)


@given(st.text(min_size=1, max_size=200).filter(lambda v: "\x00" not in v))
def test_values_are_kept_exactly_and_never_shown(raw: str) -> None:
    value = SecretValue(raw)
    assert value.value == raw
    assert repr(value) == "SecretValue(...)"


@pytest.mark.parametrize("raw", ["", "a\x00b", "x" * 16_385])
def test_empty_nul_or_huge_values_are_refused(raw: str) -> None:
    with pytest.raises(InvalidSecretValueError) as refused:
        SecretValue(raw)
    assert refused.value.field == "value"


def test_descriptions_are_collapsed_bounded_and_optional() -> None:
    assert SecretDescription("  the   CI\ttoken ").value == "the CI token"
    assert SecretDescription.optional("   ") is None
    assert SecretDescription.optional(None) is None
    for bad in ("x" * 501, "a\u200bb"):
        with pytest.raises(InvalidSecretDescriptionError):
            SecretDescription(bad)
    assert SecretDescription(string.ascii_letters).value == string.ascii_letters
