import re
from uuid import UUID

from domain.audit.entities import AuditAction
from domain.organizations.entities import OrgId
from entrypoints.settings import Settings
from tests.db import sqla_ports
from tests.integration.http.conftest import Client, serve


async def test_local_user_is_signed_in_without_credentials(embedded_client: Client) -> None:
    response = await embedded_client.get("/api/user/me")
    assert response.status_code == 200
    body = response.json()
    assert body["email"] == "local@localhost"
    assert body["displayName"] == "Local user"
    assert body["emailVerified"] is True
    assert UUID(body["id"]).version == 7


async def test_local_user_settings_apply_on_first_start(embedded_settings: Settings) -> None:
    settings = embedded_settings.with_changes(
        embedded=embedded_settings.embedded.with_changes(
            local_user_email="dev@example.com", local_user_name="Dev"
        )
    )
    async with serve(settings) as client:
        body = (await client.get("/api/user/me")).json()
    assert (body["email"], body["displayName"]) == ("dev@example.com", "Dev")


async def test_local_user_has_a_personal_org(embedded_client: Client) -> None:
    me = (await embedded_client.get("/api/user/me")).json()
    [personal] = (await embedded_client.get("/api/orgs")).json()["items"]
    assert personal["personal"] is True
    assert personal["role"] == "owner"
    assert personal["createdBy"] == me["id"]
    assert personal["name"] == "Local user (personal)"


async def test_local_user_survives_restarts(embedded_settings: Settings) -> None:
    async with serve(embedded_settings) as client:
        first = (await client.get("/api/user/me")).json()["id"]
    async with serve(embedded_settings) as client:
        again = (await client.get("/api/user/me")).json()["id"]
    assert again == first


async def test_create_then_list_and_get_an_org_with_an_audit_event(
    embedded_client: Client, embedded_settings: Settings
) -> None:
    me = (await embedded_client.get("/api/user/me")).json()["id"]

    created = await embedded_client.post("/api/orgs", json={"name": "Acme Corp"})

    assert created.status_code == 201
    org = created.json()
    assert created.headers["location"] == f"/api/orgs/{org['id']}"
    assert org["name"] == "Acme Corp"
    assert org["slug"] == "acme-corp"
    assert org["role"] == "owner"
    assert org["createdBy"] == me
    listed = (await embedded_client.get("/api/orgs")).json()["items"]
    assert [o for o in listed if not o["personal"]] == [org]
    fetched = await embedded_client.get(created.headers["location"])
    assert fetched.status_code == 200
    assert fetched.json() == org
    async with sqla_ports(embedded_settings.effective_database_url) as opened, opened() as ports:
        events = await ports.audit.list_for_org(OrgId(UUID(org["id"])))
    assert [(e.action, str(e.actor_id)) for e in events] == [(AuditAction.ORG_CREATED, me)]


async def test_taken_slug_is_409_and_leaves_the_first_org_alone(embedded_client: Client) -> None:
    first = (await embedded_client.post("/api/orgs", json={"name": "Acme", "slug": "acme"})).json()
    second = await embedded_client.post("/api/orgs", json={"name": "Other", "slug": "acme"})
    assert second.status_code == 409
    assert second.headers["content-type"].startswith("application/problem+json")
    assert second.json()["code"] == "org-slug-taken"
    listed = (await embedded_client.get("/api/orgs")).json()["items"]
    assert [o for o in listed if not o["personal"]] == [first]


async def test_unknown_org_is_404_problem(embedded_client: Client) -> None:
    response = await embedded_client.get("/api/orgs/01a20000-0000-7000-8000-000000000000")
    assert response.status_code == 404
    problem = response.json()
    assert problem["code"] == "org-not-found"
    assert problem["status"] == 404
    assert problem["type"] == "urn:maestrist:problem:org-not-found"
    assert problem["instance"] == "/api/orgs/01a20000-0000-7000-8000-000000000000"


async def test_request_id_is_echoed_when_sane_and_replaced_when_not(
    embedded_client: Client,
) -> None:
    echoed = await embedded_client.get("/health/live", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["x-request-id"] == "abc-123"
    made = await embedded_client.get(
        "/health/live", headers={"X-Request-ID": "bad id\twith\nspace"}
    )
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["x-request-id"])
    problem = await embedded_client.get("/nowhere", headers={"X-Request-ID": "trace-9"})
    assert problem.headers["x-request-id"] == "trace-9"
    assert problem.json()["requestId"] == "trace-9"


async def test_liveness_and_readiness(embedded_client: Client) -> None:
    assert (await embedded_client.get("/health/live")).json() == {"status": "ok"}
    ready = await embedded_client.get("/health/ready")
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "ready"
    assert body["dependencies"]["database"]["status"] == "up"


async def test_openapi_documents_every_route(embedded_client: Client) -> None:
    schema = (await embedded_client.get("/schema/openapi.json")).json()
    assert schema["info"]["title"] == "Maestrist Enterprise Server"
    assert {"/api/user/me", "/api/orgs", "/api/orgs/{org_id}", "/health/ready"} <= set(
        schema["paths"]
    )
    operation = schema["paths"]["/api/orgs"]["post"]
    assert operation["operationId"] == "CreateOrganization"
    assert "slug" in operation["description"]


async def test_cors_allows_configured_origins_only(embedded_settings: Settings) -> None:
    settings = embedded_settings.with_changes(
        server=embedded_settings.server.with_changes(cors_origins=("https://app.example.com",))
    )
    async with serve(settings) as client:
        allowed = await client.options(
            "/api/orgs",
            headers={"Origin": "https://app.example.com", "Access-Control-Request-Method": "POST"},
        )
        refused = await client.get("/api/user/me", headers={"Origin": "https://evil.example"})
    assert allowed.status_code in {200, 204}
    assert allowed.headers["access-control-allow-origin"] == "https://app.example.com"
    assert "access-control-allow-origin" not in refused.headers


async def test_without_cors_origins_no_cors_headers_are_sent(embedded_client: Client) -> None:
    response = await embedded_client.get(
        "/api/user/me", headers={"Origin": "https://app.example.com"}
    )
    assert "access-control-allow-origin" not in response.headers
