import string
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.identity.errors import InvalidEmailError
from domain.identity.value_objects import (
    AVATAR_URL_MAX_LENGTH,
    DISPLAY_NAME_MAX_LENGTH,
    EmailAddress,
    avatar_url,
    display_name,
    fits_subject,
)
from domain.organizations.errors import InvalidOrgNameError, InvalidOrgSlugError
from domain.organizations.value_objects import OrgName, OrgSlug
from domain.shared.errors import InvalidValueError
from domain.shared.ids import new_id

slug_words = st.text(alphabet=string.ascii_lowercase + string.digits, min_size=1, max_size=10)
valid_slugs = (
    st.lists(slug_words, min_size=1, max_size=4)
    .map("-".join)
    .filter(lambda s: OrgSlug.MIN_LENGTH <= len(s) <= OrgSlug.MAX_LENGTH)
)


@given(valid_slugs)
def test_valid_slug_round_trips(raw: str) -> None:
    assert OrgSlug(raw).value == raw


@given(st.text(max_size=60))
def test_slug_is_valid_or_refused_with_a_domain_error(raw: str) -> None:
    try:
        slug = OrgSlug(raw)
    except InvalidOrgSlugError as exc:
        assert exc.field == "slug"
    else:
        assert OrgSlug.PATTERN.fullmatch(slug.value)


@pytest.mark.parametrize("raw", ["a", "Acme", "acme--corp", "-acme", "acme-", "ac me", "x" * 49])
def test_malformed_slugs_are_refused(raw: str) -> None:
    with pytest.raises(InvalidOrgSlugError):
        OrgSlug(raw)


@given(st.text(max_size=120))
def test_slug_from_any_name_is_valid_or_refused(raw: str) -> None:
    try:
        name = OrgName(raw)
        slug = OrgSlug.from_name(name)
    except InvalidValueError:
        return
    assert OrgSlug(slug.value) == slug


@pytest.mark.parametrize(
    ("name", "slug"),
    [("Acme Corp", "acme-corp"), ("  Café  Ünïcode ", "cafe-unicode"), ("R&D / 2026", "r-d-2026")],
)
def test_slug_is_derived_from_name(name: str, slug: str) -> None:
    assert OrgSlug.from_name(OrgName(name)).value == slug


def test_name_without_letters_gives_no_slug() -> None:
    with pytest.raises(InvalidOrgSlugError):
        OrgSlug.from_name(OrgName("🚀"))


@given(st.text(max_size=150))
def test_org_name_is_collapsed_and_bounded(raw: str) -> None:
    try:
        name = OrgName(raw)
    except InvalidOrgNameError:
        return
    assert name.value == " ".join(name.value.split())
    assert 1 <= len(name.value) <= OrgName.MAX_LENGTH


@pytest.mark.parametrize("raw", ["", "   ", "x" * 101, "bad\x00name", "zero\u200bwidth"])
def test_bad_org_names_are_refused(raw: str) -> None:
    with pytest.raises(InvalidOrgNameError):
        OrgName(raw)


@given(
    st.from_regex(r"[A-Za-z0-9._%+-]{1,30}", fullmatch=True),
    st.from_regex(r"[A-Za-z0-9-]{1,20}(\.[A-Za-z]{2,6}){0,2}", fullmatch=True),
)
def test_email_keeps_local_part_and_lowercases_domain(local: str, domain: str) -> None:
    email = EmailAddress(f"{local}@{domain}")
    assert email.value == f"{local}@{domain.lower()}"


@pytest.mark.parametrize(
    "raw", ["", "plain", "@example.com", "a@", "a b@example.com", "a@@b", "a@.com", "a@b..c"]
)
def test_malformed_emails_are_refused(raw: str) -> None:
    with pytest.raises(InvalidEmailError):
        EmailAddress(raw)


def test_domain_errors_are_value_errors_for_decoders() -> None:
    assert issubclass(InvalidEmailError, ValueError)
    assert issubclass(InvalidOrgNameError, ValueError)


def test_new_ids_are_version_7_and_time_ordered() -> None:
    ids = [new_id() for _ in range(200)]
    assert all(i.version == 7 and i.variant == uuid.RFC_4122 for i in ids)
    assert len(set(ids)) == len(ids)
    stamps = [i.int >> 80 for i in ids]
    assert stamps == sorted(stamps)


@given(st.text(max_size=600))
def test_a_display_name_is_short_and_single_line(raw: str) -> None:
    name = display_name(raw)
    assert len(name) <= DISPLAY_NAME_MAX_LENGTH
    assert not any(ord(ch) < 32 or ord(ch) == 127 for ch in name)
    assert name == name.strip()


@pytest.mark.parametrize(
    "raw",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "data:image/png;base64,AAAA",
        "//example.com/a.png",
        "/avatars/a.png",
        "https://",
        "https://example.com/a b.png",
        "https://example.com/" + "a" * AVATAR_URL_MAX_LENGTH,
        "",
        None,
    ],
)
def test_a_picture_that_a_browser_should_not_load_is_none(raw: str | None) -> None:
    assert avatar_url(raw) is None


def test_a_web_picture_is_kept_as_it_is() -> None:
    for url in ("https://example.com/a.png?s=80", "http://cdn.example.org/x"):
        assert avatar_url(url) == url


def test_a_subject_fits_in_1_to_255_characters() -> None:
    assert [fits_subject("s" * n) for n in (0, 1, 255, 256)] == [False, True, True, False]
