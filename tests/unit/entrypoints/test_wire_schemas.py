"""Every wire schema survives encode -> decode unchanged."""

from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from entrypoints.http.health.schemas import DependencyOut, Liveness, Readiness
from entrypoints.http.identity.schemas import UserOut
from entrypoints.http.organizations.schemas import OrgCreate, OrgList, OrgOut
from entrypoints.http.problem import FieldProblem, Problem

aware = st.datetimes(timezones=st.just(__import__("datetime").UTC))
text = st.text(max_size=50)

SCHEMAS: dict[type[Any], st.SearchStrategy[Any]] = {
    UserOut: st.builds(UserOut, created_at=aware, avatar_url=st.none() | text),
    OrgCreate: st.builds(OrgCreate, name=text, slug=st.none() | text),
    OrgOut: st.builds(OrgOut, created_at=aware),
    OrgList: st.builds(OrgList, items=st.lists(st.builds(OrgOut, created_at=aware), max_size=3)),
    Liveness: st.builds(Liveness),
    Readiness: st.builds(
        Readiness,
        dependencies=st.dictionaries(
            text,
            st.builds(
                DependencyOut,
                latency_ms=st.floats(allow_nan=False, allow_infinity=False),
                error=st.none() | text,
            ),
            max_size=3,
        ),
    ),
    Problem: st.builds(
        Problem,
        status=st.integers(400, 599),
        errors=st.none() | st.lists(st.builds(FieldProblem), max_size=3),
    ),
}


@pytest.mark.parametrize("schema", list(SCHEMAS), ids=lambda s: s.__name__)
@given(data=st.data())
def test_round_trip(schema: type[Any], data: st.DataObject) -> None:
    value = data.draw(SCHEMAS[schema])
    assert msgspec.json.decode(msgspec.json.encode(value), type=schema) == value


def test_request_bodies_refuse_unknown_fields() -> None:
    with pytest.raises(msgspec.ValidationError, match="unknown field"):
        msgspec.json.decode(b'{"name": "a", "owner": "x"}', type=OrgCreate)


def test_responses_use_camel_case() -> None:
    encoded = msgspec.json.decode(
        msgspec.json.encode(
            Problem(type="t", title="T", status=404, detail="d", code="c", request_id="r")
        )
    )
    assert encoded["requestId"] == "r"
    assert "errors" not in encoded
