"""Hostile input to every route: always a 4xx problem document or a success, never a 5xx."""

import asyncio
import base64
import json
import re
import secrets
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import pytest
import structlog.testing
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from entrypoints.settings import Settings
from tests.conftest import clustered_settings
from tests.db import add_user
from tests.integration.http.conftest import BearerSubjectAuth, Client, bearer, serve
from tests.support.oidc import OidcProvider, drive_login, run_oidc_provider

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


SIGN_IN_APP = "http://maestrist.localhost"


@pytest.fixture(scope="module")
def oidc() -> Iterator[OidcProvider]:
    with run_oidc_provider(f"{SIGN_IN_APP}/api/auth/callback", f"{SIGN_IN_APP}/") as provider:
        yield provider


@pytest.fixture(
    params=[
        "embedded",
        pytest.param("clustered", marks=pytest.mark.postgres),
        pytest.param("sign-in", marks=[pytest.mark.postgres, pytest.mark.oidc]),
    ]
)
def binding(request: pytest.FixtureRequest, embedded_settings: Settings) -> tuple[Settings, bool]:
    """The settings to serve, and whether requests need the test bearer credential."""
    if request.param == "embedded":
        return embedded_settings, False
    url: str = request.getfixturevalue("postgres_url")
    asyncio.run(add_user(url, "fuzzer"))
    if request.param == "clustered":
        return clustered_settings(url), True
    provider: OidcProvider = request.getfixturevalue("oidc")
    key = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
    settings = clustered_settings(url)
    return settings.with_changes(
        server=settings.server.with_changes(public_url=SIGN_IN_APP),
        identity=settings.identity.with_changes(
            oidc_issuer=provider.issuer,
            oidc_client_id=provider.client_id,
            oidc_client_secret=provider.client_secret,
        ),
        crypto=settings.crypto.with_changes(encryption_keys=f"k1:{key}"),
    ), False


@pytest.fixture
async def target(binding: tuple[Settings, bool]) -> AsyncIterator[tuple[Client, dict[str, str]]]:
    settings_, needs_bearer = binding
    providers = [BearerSubjectAuth()] if needs_bearer else []
    base_url = SIGN_IN_APP if settings_.identity.sign_in_enabled else "http://testserver.local"
    async with serve(settings_, *providers, base_url=base_url) as client:
        if settings_.identity.sign_in_enabled:
            started = await client.get("/api/auth/login")
            callback = urlsplit(await drive_login(started.headers["location"], "fuzzer"))
            signed_in = await client.get(f"{callback.path}?{callback.query}")
            assert signed_in.status_code == 302
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


def _operations(schema: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (method.upper(), path)
        for path, item in schema["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    ]


@EXAMPLES
@given(data=st.data())
async def test_every_documented_route_with_hostile_input(
    target: tuple[Client, dict[str, str]], data: st.DataObject
) -> None:
    client, headers = target
    schema = (await client.get("/schema/openapi.json")).json()
    method, template = data.draw(st.sampled_from(_operations(schema)), label="operation")
    path = template
    for name in re.findall(r"{(\w+)}", template):
        value = data.draw(st.uuids().map(str) | path_segments, label=f"path parameter {name}")
        path = path.replace(f"{{{name}}}", value)
    query = data.draw(
        st.dictionaries(
            st.sampled_from(["limit", "returnTo", "provider", "x"]), st.text(max_size=30)
        ),
        label="query",
    )
    kwargs: dict[str, Any] = {"params": query, "headers": headers}
    if method in {"POST", "PUT", "PATCH"}:
        kwargs["content"] = data.draw(raw_bodies, label="body")
        kwargs["headers"] = {**headers, "Content-Type": "application/json"}
    org_header = data.draw(st.none() | st.uuids().map(str) | st.text(max_size=20), label="org")
    if org_header is not None:
        kwargs["headers"] = {**kwargs["headers"], "X-Org-Id": quote(org_header, safe="")}
    response = await client.request(method, path, **kwargs)
    assert_no_server_error(response)


async def _json_operations(client: Client, headers: dict[str, str]) -> list[tuple[str, str]]:
    """Every documented operation taking a JSON body, its path parameters filled in."""
    schema = (await client.get("/schema/openapi.json", headers=headers)).json()
    found = []
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            content = operation.get("requestBody", {}).get("content", {})
            if method in {"post", "put", "patch"} and "application/json" in content:
                filled = re.sub(r"{(\w+)}", "01a20000-0000-7000-8000-000000000000", path)
                found.append((method.upper(), filled))
    return found


MALFORMED_BODIES = {
    "deep": b"[" * 100_000 + b"]" * 100_000,
    "deep object": b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    "bad utf-8": b'{"name": "caf\xe9", "title": "\xff\xfe"}',
}


@pytest.mark.parametrize("body", MALFORMED_BODIES.values(), ids=MALFORMED_BODIES.keys())
async def test_a_malformed_body_is_a_400_on_every_json_route(
    target: tuple[Client, dict[str, str]], body: bytes
) -> None:
    client, headers = target
    operations = await _json_operations(client, headers)
    assert len(operations) >= 10
    with structlog.testing.capture_logs() as logs:
        for method, path in operations:
            response = await client.request(
                method, path, content=body, headers={**headers, "Content-Type": "application/json"}
            )
            assert response.status_code == 400, (method, path, response.text)
            assert_no_server_error(response)
            assert "Traceback" not in response.text
    assert [entry for entry in logs if entry["log_level"] in {"error", "critical"}] == []


NUL_BODIES = [
    ("POST", "/api/orgs", {"name": "Acme\x00"}, "name"),
    ("POST", "/api/conversations", {"title": "a\x00b"}, "title"),
    (
        "PATCH",
        "/api/conversations/01a20000-0000-7000-8000-000000000000",
        {"title": "\x00"},
        "title",
    ),
    (
        "POST",
        "/api/secrets",
        {"name": "TOKEN", "value": "v", "description": "x\x00"},
        "description",
    ),
    ("POST", "/api/settings", {"llmModel": "openai/gpt\x00"}, "llmModel"),
    ("POST", "/api/settings", {"mcpConfig": {"shttpServers": [{"url": "\x00"}]}}, "mcpConfig"),
    ("POST", "/api/keys", {"name": "ci\x00", "scopes": []}, "name"),
]


async def test_a_nul_anywhere_in_a_body_is_a_422_naming_the_field(
    target: tuple[Client, dict[str, str]],
) -> None:
    client, headers = target
    org = (await client.post("/api/orgs", json={"name": "Nul Tests"}, headers=headers)).json()
    invite = ("POST", f"/api/orgs/{org['id']}/invitations", {"email": "a\x00@example.com"}, "email")
    for method, path, body, field in [*NUL_BODIES, invite]:
        response = await client.request(method, path, json=body, headers=headers)
        assert response.status_code == 422, (method, path, response.text)
        assert_no_server_error(response)
        problem = response.json()
        assert any(error["field"].startswith(field) for error in problem["errors"]), problem
        assert all(error["source"] == "body" for error in problem["errors"]), problem
    nested = await client.post(
        "/api/orgs", json={"name": "ok", "x": [{"\x00": 1}, {"y": "\x00"}]}, headers=headers
    )
    assert {error["field"] for error in nested.json()["errors"]} == {"x[0].\x00", "x[1].y"}


async def test_a_nul_in_a_query_or_path_parameter_is_a_422_naming_it(
    target: tuple[Client, dict[str, str]],
) -> None:
    client, headers = target
    for path, params, field, source in (
        ("/api/conversations", {"title": "a\x00"}, "title", "query"),
        ("/api/conversations", {"repository": "acme/\x00"}, "repository", "query"),
        ("/api/orgs", {"cursor": "\x00"}, "cursor", "query"),
        ("/api/secrets/A%00B", {}, "name", "path"),
    ):
        method = "PUT" if source == "path" else "GET"
        kwargs: dict[str, Any] = {"params": params, "headers": headers}
        if method == "PUT":
            kwargs["json"] = {"value": "v"}
        response = await client.request(method, path, **kwargs)
        assert response.status_code == 422, (path, params, response.text)
        assert [(e["field"], e["source"]) for e in response.json()["errors"]] == [
            (field, source)
        ], response.text
    fine = await client.get("/api/conversations", params={"title": "a b"}, headers=headers)
    assert fine.status_code == 200
