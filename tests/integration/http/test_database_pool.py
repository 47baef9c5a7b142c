"""The clustered binding's connection pool under more concurrent requests than it has
connections: requests queue for a connection and succeed; only a wait longer than
``MAESTRIST_DB_POOL_TIMEOUT`` answers 503, and a database that cannot be reached answers 503 at
once, however many requests queue; routes that need no database never take a connection."""

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import replace
from typing import Any, cast

import asyncpg
import httpx
import pytest
import structlog
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.sqlalchemy.engine import QueueingPool
from application.conversations.ingest import ConversationIngest
from entrypoints.ioc import create_app
from entrypoints.settings import Settings
from tests.conftest import POSTGRES_ADMIN_URL, REDIS_URL, clustered_settings
from tests.db import add_user
from tests.integration.http.conftest import BearerSubjectAuth, bearer
from tests.support.ports import closed_port

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

DEADLINE_S = 60.0
"""Generous bound on conditions that must become true; never reached when the code works."""


def _pooled(database_url: str, *, pool_size: int, pool_timeout_s: float) -> Settings:
    settings = clustered_settings(database_url, REDIS_URL)
    database = replace(settings.database, pool_size=pool_size, pool_timeout_s=pool_timeout_s)
    # No job workers: they would queue for connections too, and these tests count requests.
    return replace(settings, database=database, jobs=replace(settings.jobs, in_serve=False))


@asynccontextmanager
async def _serve(
    settings: Settings, *, reachable: bool = True
) -> AsyncIterator[tuple[httpx.AsyncClient, AsyncEngine]]:
    """The app on this test's loop, so requests sent together overlap, with its engine; with
    a ``reachable`` database, once start-up's own read is done."""
    app = create_app(settings, BearerSubjectAuth())
    async with (
        app.lifespan(),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]  # ASGI, typed narrower
            base_url="http://testserver.local",
        ) as client,
    ):
        container = app.state.dishka_container
        if reachable:
            # start-up's own read (the conversations a previous run left) is done before a
            # test counts what waits for a connection
            await (await container.get(ConversationIngest)).unfinished_followed()
        engine = await container.get(AsyncEngine)
        yield client, engine


def _pool(engine: AsyncEngine) -> QueueingPool:
    return cast("QueueingPool", engine.sync_engine.pool)


@asynccontextmanager
async def _every_connection_held(engine: AsyncEngine) -> AsyncIterator[list[AsyncConnection]]:
    """Checks out as many connections as the pool allows and holds them."""
    pool = _pool(engine)
    async with AsyncExitStack() as stack:
        held = [
            await stack.enter_async_context(engine.connect())
            for _ in range(pool.size() + pool._max_overflow)
        ]
        yield held


async def _until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(DEADLINE_S):
        while not condition():
            await asyncio.sleep(0.01)


async def test_more_concurrent_requests_than_connections_queue_and_all_succeed(
    postgres_url: str,
) -> None:
    await add_user(postgres_url, "alice")
    requests = 40
    async with _serve(_pooled(postgres_url, pool_size=1, pool_timeout_s=3600)) as (client, eng):
        async with _every_connection_held(eng):
            sent = [
                asyncio.ensure_future(client.get("/api/user/me", headers=bearer("alice")))
                for _ in range(requests)
            ]
            await _until(lambda: _pool(eng).queued == requests)
        answers = await asyncio.gather(*sent)
        assert [a.status_code for a in answers] == [200] * requests, answers[0].text
        assert _pool(eng).checkedout() == 0


async def test_a_wait_past_the_pool_timeout_is_a_503_that_says_so(postgres_url: str) -> None:
    await add_user(postgres_url, "alice")
    async with _serve(_pooled(postgres_url, pool_size=1, pool_timeout_s=0.05)) as (client, eng):
        async with _every_connection_held(eng):
            answer = await client.get("/api/user/me", headers=bearer("alice"))
        assert answer.status_code == 503
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert int(answer.headers["retry-after"]) > 0
        problem = answer.json()
        assert problem["code"] == "dependency-unavailable"
        assert "stayed busy" in problem["detail"], problem
        assert (await client.get("/api/user/me", headers=bearer("alice"))).status_code == 200


async def test_an_unreachable_database_answers_every_queued_request_503_without_the_wait() -> None:
    """Connecting is refused: each checkout fails as fast as connecting does, and so do those
    queued behind them, though the pool timeout is an hour."""
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{closed_port()}/nothing"
    requests = 30
    async with (
        _serve(_pooled(url, pool_size=1, pool_timeout_s=3600), reachable=False) as (
            client,
            _engine,
        ),
        asyncio.timeout(DEADLINE_S),
    ):
        # captured, not rendered: the default renderer takes long over each 503's traceback
        with structlog.testing.capture_logs():
            answers = await asyncio.gather(
                *(client.get("/api/orgs", headers=bearer("anyone")) for _ in range(requests))
            )
    assert [a.status_code for a in answers] == [503] * requests
    assert {a.json()["code"] for a in answers} == {"dependency-unavailable"}
    assert all(int(a.headers["retry-after"]) > 0 for a in answers)


async def test_liveness_answers_while_every_connection_is_busy(postgres_url: str) -> None:
    async with _serve(_pooled(postgres_url, pool_size=1, pool_timeout_s=0.05)) as (client, eng):
        async with _every_connection_held(eng):
            live = await client.get("/health/live")
            assert _pool(eng).queued == 0
        assert live.status_code == 200
        assert live.json() == {"status": "ok"}


async def test_a_reading_route_runs_its_statements_without_a_transaction(
    postgres_url: str,
) -> None:
    """``GET /api/settings`` reads without ``BEGIN`` and ``ROLLBACK``; writing them still runs
    in a transaction, and so does anything a route that writes reads."""
    await add_user(postgres_url, "alice")
    settings_statements: list[tuple[str, bool]] = []

    def seen(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "user_settings" in statement:
            in_transaction = conn.connection.driver_connection.is_in_transaction()
            settings_statements.append((statement.split(maxsplit=1)[0].upper(), in_transaction))

    async with _serve(_pooled(postgres_url, pool_size=2, pool_timeout_s=30)) as (client, eng):
        event.listen(eng.sync_engine, "after_cursor_execute", seen)
        read = await client.get("/api/settings", headers=bearer("alice"))
        assert read.status_code == 200, read.text
        assert settings_statements == [("SELECT", False)]
        settings_statements.clear()
        written = await client.post(
            "/api/settings", json={"llmModel": "openai/gpt-4o"}, headers=bearer("alice")
        )
        assert written.status_code == 200, written.text
        assert settings_statements, "the update touched no settings row"
        assert all(in_transaction for _, in_transaction in settings_statements)
        settings_statements.clear()
        again = await client.get("/api/settings", headers=bearer("alice"))
        assert again.json()["llmModel"] == "openai/gpt-4o"
        assert settings_statements == [("SELECT", False)]


async def _terminate_backends(database_url: str) -> None:
    """Ends every server process connected to the test's database, as a restart does."""
    admin = await asyncpg.connect(
        make_url(POSTGRES_ADMIN_URL).set(drivername="postgresql").render_as_string(False)
    )
    try:
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = $1 AND pid <> pg_backend_pid()",
            make_url(database_url).database,
        )
    finally:
        await admin.close()


async def test_a_pooled_connection_the_server_closed_is_replaced_at_checkout(
    postgres_url: str,
) -> None:
    """No pre-ping: the pool sees its idle connection closed by the server and opens another
    in its place; the first request after a restart succeeds."""
    await add_user(postgres_url, "alice")
    async with _serve(_pooled(postgres_url, pool_size=1, pool_timeout_s=30)) as (client, eng):
        assert (await client.get("/api/user/me", headers=bearer("alice"))).status_code == 200
        assert _pool(eng).checkedin() == 1
        async with eng.connect() as connection:  # the one idle connection, back at once
            pooled = (await connection.get_raw_connection()).driver_connection
        assert pooled is not None

        await _terminate_backends(postgres_url)
        await _until(pooled.is_closed)

        answer = await client.get("/api/user/me", headers=bearer("alice"))
        assert answer.status_code == 200, answer.text
