"""Amounts of currency people type (a member cap, an operator's credit, a setting) are read by
one parser: exactly, within a billion, with the decimal places the caller allows, and each
mistake named; no written exponent makes it build a huge number."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.billing.ledger import micros, parse_amount
from domain.shared.errors import InvalidValueError


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("25.50", 25_500_000),
        (" 2 ", 2_000_000),
        ("0", 0),
        ("-0", 0),
        ("0.000001", 1),
        ("1.000000000", 1_000_000),  # zeros past the sixth place say nothing
        ("1E+3", 1_000_000_000),
        ("1000000000", 10**15),
    ],
)
def test_an_amount_is_read_exactly(raw: str, expected: int) -> None:
    assert parse_amount(raw) == expected


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        ("lots", "is not an amount"),
        ("NaN", "is not an amount"),
        ("-Infinity", "is not an amount"),
        ("", "is not an amount"),
        ("1.0000001", "at most six decimal places"),
        ("1e-999999999", "at most six decimal places"),
        ("-1", "zero or more"),
        ("1000000000.000001", "at most a billion"),
        ("1e999999999", "at most a billion"),
    ],
)
def test_a_bad_amount_is_refused_by_name_and_rule(raw: str, rule: str) -> None:
    with pytest.raises(InvalidValueError) as refused:
        parse_amount(raw, field="member_monthly_cap")
    assert refused.value.field == "member_monthly_cap"
    assert rule in refused.value.message


def test_the_caller_says_how_fine_and_which_signs() -> None:
    assert parse_amount("12.50", places=2) == 12_500_000
    with pytest.raises(InvalidValueError, match=r"two decimal places \(cents\)"):
        parse_amount("12.505", places=2)
    assert parse_amount("-3.5", signed=True) == -3_500_000
    with pytest.raises(InvalidValueError, match="at most a billion"):
        parse_amount("-1e999999999", signed=True)
    with pytest.raises(InvalidValueError, match="not zero"):
        parse_amount("0.000", signed=True, nonzero=True)
    with pytest.raises(ValueError, match="0 to 6"):
        parse_amount("1", places=7)


@given(
    st.decimals(min_value=-(10**9), max_value=10**9, places=6, allow_nan=False),
    st.integers(min_value=0, max_value=3),
)
def test_any_amount_within_bounds_reads_as_what_micros_makes_of_it(
    amount: Decimal, padding: int
) -> None:
    written = f"{amount:f}" + ("0" * padding if "." in f"{amount:f}" else "")
    assert parse_amount(written, signed=True) == micros(amount)
