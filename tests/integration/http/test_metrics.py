"""``/metrics``: absent without its token, 401 without it or with another, and with it the
requests counted by route template (one bucket for paths no route answers), out of the API
reference and of the rate limits."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from entrypoints.ioc import create_app
from entrypoints.settings import Settings
from tests.integration.http.conftest import Client, serve
from tests.integration.http.test_rate_limits import embedded, from_addresses

TOKEN = "metrics-token-0123456789"


def _settings(tmp_path: Path, **extra: str) -> Settings:
    return Settings.from_env(
        {
            "MAESTRIST_DATA_DIR": str(tmp_path),
            "MAESTRIST_ACCESS_LOG": "false",
            "MAESTRIST_RATE_LIMIT_ENABLED": "false",
            "MAESTRIST_METRICS_TOKEN": TOKEN,
            **extra,
        }
    )


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[Client]:
    async with serve(_settings(tmp_path)) as opened:
        yield opened


async def _scrape(client: Client) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def _requests(method: str, route: str, status: int) -> tuple[str, frozenset[tuple[str, str]]]:
    labels = {"method": method, "route": route, "status": str(status)}
    return "maestrist_http_requests_total", frozenset(labels.items())


async def test_without_a_token_configured_there_is_no_metrics_endpoint(
    embedded_client: Client,
) -> None:
    response = await embedded_client.get("/metrics", headers={"Authorization": "Bearer x"})
    assert response.status_code == 404


@pytest.mark.parametrize(
    "authorization", [None, "Bearer wrong-token-0123456789", f"Basic {TOKEN}", TOKEN, "Bearer"]
)
async def test_a_scrape_without_the_token_is_refused_with_a_problem(
    client: Client, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = await client.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "not-authenticated"
    assert "maestrist_" not in response.text


async def test_requests_count_by_route_template_and_unmatched_paths_share_one_bucket(
    client: Client,
) -> None:
    for _ in range(3):
        assert (await client.get("/health/live")).status_code == 200
    unknown = "/api/conversations/0192b4a5-0000-7000-8000-000000000000"
    assert (await client.get(unknown)).status_code == 404
    for path in ("/no/such/path/1", "/no/such/path/2", "/wp-admin.php"):
        assert (await client.get(path)).status_code == 404

    samples = await _scrape(client)

    assert samples[_requests("GET", "/health/live", 200)] == 3
    assert samples[_requests("GET", "/api/conversations/{conversation_id}", 404)] == 1
    assert samples[_requests("GET", "unmatched", 404)] == 3
    routes = {
        dict(labels)["route"] for name, labels in samples if name.startswith("maestrist_http")
    }
    assert not any("/no/such" in route or "0192b4a5" in route for route in routes)
    assert not any(dict(labels).get("route") == "/metrics" for _, labels in samples)


async def test_a_scrape_reads_conversations_and_the_job_queue(client: Client) -> None:
    samples = await _scrape(client)
    assert samples["maestrist_conversations", frozenset({("status", "running")})] == 0
    assert samples["maestrist_conversations", frozenset({("status", "starting")})] == 0
    assert samples["maestrist_job_queue", frozenset({("state", "due")})] >= 0
    assert samples["maestrist_websockets_open", frozenset()] == 0


async def test_the_endpoint_is_not_in_the_api_reference(client: Client) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    assert not any(path.startswith("/metrics") for path in schema["paths"])


async def test_scrapes_are_not_rate_limited_and_refusals_of_others_are_counted(
    tmp_path: Path,
) -> None:
    app = create_app(
        embedded(tmp_path, MAESTRIST_RATE_LIMIT_PER_IP="2/minute", MAESTRIST_METRICS_TOKEN=TOKEN)
    )
    async with from_addresses(app, "203.0.113.7") as [client]:
        statuses = [(await client.get("/schema/openapi.json")).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
        scrapes = [
            await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
            for _ in range(4)
        ]
    assert [scrape.status_code for scrape in scrapes] == [200] * 4
    assert 'maestrist_rate_limited_requests_total{policy="ip"} 1.0' in scrapes[-1].text
