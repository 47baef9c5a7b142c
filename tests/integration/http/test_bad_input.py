"""Hostile input to every route: always a 4xx problem document or a success, never a 5xx."""

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from entrypoints.settings import Settings
from tests.conftest import clustered_settings
from tests.db import add_user
from tests.integration.http.conftest import BearerSubjectAuth, Client, bearer, serve

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
org_bodies = st.fixed_dictionaries(
    {},
    optional={
        "name": json_values | st.text(),
        "slug": json_values | st.text(),
        "extra": json_values,
    },
)
raw_bodies = st.binary(max_size=200) | json_values.map(lambda v: json.dumps(v).encode())
path_segments = st.text(min_size=1, max_size=60).map(lambda s: quote(s, safe=""))
methods = st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE"])

EXAMPLES = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(params=["embedded", pytest.param("clustered", marks=pytest.mark.postgres)])
def binding(request: pytest.FixtureRequest, embedded_settings: Settings) -> tuple[Settings, bool]:
    """The settings to serve, and whether requests need the test bearer credential."""
    if request.param == "embedded":
        return embedded_settings, False
    url: str = request.getfixturevalue("postgres_url")
    asyncio.run(add_user(url, "fuzzer"))
    return clustered_settings(url), True


@pytest.fixture
async def target(binding: tuple[Settings, bool]) -> AsyncIterator[tuple[Client, dict[str, str]]]:
    settings_, needs_bearer = binding
    providers = [BearerSubjectAuth()] if needs_bearer else []
    async with serve(settings_, *providers) as client:
        yield client, bearer("fuzzer") if needs_bearer else {}


def assert_no_server_error(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.headers["content-type"].startswith("application/problem+json")
        problem: dict[str, Any] = response.json()
        assert problem["status"] == response.status_code
        assert problem["code"]
        assert problem["detail"]


@EXAMPLES
@given(body=org_bodies)
async def test_create_org_with_any_json_object(
    target: tuple[Client, dict[str, str]], body: dict[str, Any]
) -> None:
    client, headers = target
    response = await client.post("/api/orgs", json=body, headers=headers)
    assert_no_server_error(response)
    if response.status_code == 201:
        assert (await client.get(response.headers["location"], headers=headers)).json() == (
            response.json()
        )


@EXAMPLES
@given(raw=raw_bodies, content_type=st.sampled_from(["application/json", "text/plain", "x/y"]))
async def test_create_org_with_any_bytes(
    target: tuple[Client, dict[str, str]], raw: bytes, content_type: str
) -> None:
    client, headers = target
    response = await client.post(
        "/api/orgs", content=raw, headers={**headers, "Content-Type": content_type}
    )
    assert_no_server_error(response)


@EXAMPLES
@given(segment=path_segments, method=methods)
async def test_any_org_path_and_method(
    target: tuple[Client, dict[str, str]], segment: str, method: str
) -> None:
    client, headers = target
    for path in (f"/api/orgs/{segment}", f"/api/user/{segment}", f"/health/{segment}"):
        response = await client.request(method, path, headers=headers)
        assert_no_server_error(response)


async def test_oversized_body_is_413(target: tuple[Client, dict[str, str]]) -> None:
    client, headers = target
    response = await client.post(
        "/api/orgs",
        content=b'{"name": "' + b"x" * (2 * 1024 * 1024) + b'"}',
        headers={**headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert_no_server_error(response)


async def test_bad_input_leaves_stored_orgs_untouched(
    target: tuple[Client, dict[str, str]],
) -> None:
    client, headers = target
    kept = (await client.post("/api/orgs", json={"name": "Keep Me"}, headers=headers)).json()
    for body in ({"name": "Keep Me"}, {"name": "x", "slug": kept["slug"]}, {"name": "\x00"}):
        assert (await client.post("/api/orgs", json=body, headers=headers)).status_code in {
            409,
            422,
        }
    assert (await client.get(f"/api/orgs/{kept['id']}", headers=headers)).json() == kept
