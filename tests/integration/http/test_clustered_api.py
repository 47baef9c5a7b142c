"""The clustered binding on the real PostgreSQL and Redis: tenants never see each other."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import REDIS_URL, clustered_settings
from tests.db import add_user
from tests.integration.http.conftest import (
    BearerSubjectAuth,
    Client,
    bearer,
    serve,
)
from tests.support.ports import closed_port

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


async def test_ready_names_database_and_redis(clustered_client: Client) -> None:
    response = await clustered_client.get("/health/ready")
    assert response.status_code == 200
    deps = response.json()["dependencies"]
    assert {name: dep["status"] for name, dep in deps.items()} == {
        "database": "up",
        "redis": "up",
        "runtime": "up",
    }


async def test_unreachable_redis_makes_ready_503_naming_redis(postgres_url: str) -> None:
    settings_ = clustered_settings(postgres_url, f"redis://127.0.0.1:{closed_port()}/0")
    async with serve(settings_, BearerSubjectAuth()) as client:
        response = await client.get("/health/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["dependencies"]["redis"]["status"] == "down"
    assert body["dependencies"]["redis"]["error"]
    assert body["dependencies"]["database"]["status"] == "up"


async def test_unreachable_database_is_503_problem_not_500() -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{closed_port()}/nothing"
    async with serve(clustered_settings(url, REDIS_URL), BearerSubjectAuth()) as client:
        ready = await client.get("/health/ready")
        api = await client.get("/api/orgs", headers=bearer("anyone"))
    assert ready.status_code == 503
    assert ready.json()["dependencies"]["database"]["status"] == "down"
    assert api.status_code == 503
    assert api.headers["content-type"].startswith("application/problem+json")
    assert api.headers["retry-after"] == "5"
    assert api.json()["code"] == "dependency-unavailable"


async def test_requests_without_valid_credentials_are_401(
    clustered_client: Client, postgres_url: str
) -> None:
    await add_user(postgres_url, "alice")
    for headers in ({}, bearer("mallory"), {"Authorization": "Basic YWxpY2U6eA=="}):
        response = await clustered_client.get("/api/orgs", headers=headers)
        assert response.status_code == 401
        assert response.json()["code"] == "not-authenticated"
    assert (await clustered_client.get("/health/live")).status_code == 200


async def test_another_tenants_org_is_404_like_a_missing_one(
    clustered_client: Client, postgres_url: str
) -> None:
    await add_user(postgres_url, "alice")
    await add_user(postgres_url, "bob")
    org = (
        await clustered_client.post(
            "/api/orgs", json={"name": "Alice Inc"}, headers=bearer("alice")
        )
    ).json()

    stolen = await clustered_client.get(f"/api/orgs/{org['id']}", headers=bearer("bob"))
    missing = await clustered_client.get(
        "/api/orgs/01a20000-0000-7000-8000-000000000000", headers=bearer("bob")
    )

    assert stolen.status_code == missing.status_code == 404
    assert stolen.json()["code"] == missing.json()["code"] == "org-not-found"
    assert stolen.json()["detail"] == missing.json()["detail"]
    bobs = (await clustered_client.get("/api/orgs", headers=bearer("bob"))).json()["items"]
    assert [o["personal"] for o in bobs] == [True]
    mine = await clustered_client.get(f"/api/orgs/{org['id']}", headers=bearer("alice"))
    assert mine.json() == org


async def test_current_user_is_the_caller(clustered_client: Client, postgres_url: str) -> None:
    alice = await add_user(postgres_url, "alice")
    body = (await clustered_client.get("/api/user/me", headers=bearer("alice"))).json()
    assert body["id"] == str(alice.id_)
    assert body["email"] == alice.email.value


SUBJECTS = ["u0", "u1", "u2"]


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(creations=st.lists(st.sampled_from(SUBJECTS), min_size=1, max_size=6))
async def test_each_user_sees_exactly_the_orgs_they_created(
    postgres_url: str, creations: list[str]
) -> None:
    async with serve(clustered_settings(postgres_url), BearerSubjectAuth()) as client:
        for subject in SUBJECTS:
            response = await client.get("/api/user/me", headers=bearer(subject))
            if response.status_code == 401:
                await add_user(postgres_url, subject)
        before = {
            s: {o["id"] for o in (await client.get("/api/orgs", headers=bearer(s))).json()["items"]}
            for s in SUBJECTS
        }
        owned: dict[str, set[str]] = {s: set(ids) for s, ids in before.items()}
        for index, subject in enumerate(creations):
            created = await client.post(
                "/api/orgs", json={"name": f"Org {index} of {subject}"}, headers=bearer(subject)
            )
            if created.status_code == 409:
                continue
            assert created.status_code == 201
            owned[subject].add(created.json()["id"])
        for subject in SUBJECTS:
            listed = (await client.get("/api/orgs", headers=bearer(subject))).json()["items"]
            assert {o["id"] for o in listed} == owned[subject]
            for other in SUBJECTS:
                for org_id in owned[other]:
                    status = (
                        await client.get(f"/api/orgs/{org_id}", headers=bearer(subject))
                    ).status_code
                    assert status == (200 if other == subject else 404)


async def test_readiness_never_reveals_where_redis_lives(postgres_url: str) -> None:
    port = closed_port()
    async with serve(
        clustered_settings(postgres_url, f"redis://127.0.0.1:{port}/0"), BearerSubjectAuth()
    ) as client:
        body = (await client.get("/health/ready")).text
    assert str(port) not in body
    assert "127.0.0.1" not in body
