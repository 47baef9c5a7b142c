"""The production server while PostgreSQL goes away and comes back: every request the outage
touches answers 503 with ``Retry-After``, never 500, whether connections are cut, refused, or
answered by a database that is starting up; the same requests succeed once it is back.

PostgreSQL is reached through a TCP proxy the test cuts; while "restarting", the proxy's port
is held by a stand-in that answers each connection the way PostgreSQL does while it starts up
(a FATAL ``57P03`` error). The other errors a restart raises (``57P01`` on a connection it
had accepted...) are mapped in tests/unit/adapters/test_database_errors.py."""

import asyncio
import struct
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import REDIS_URL
from tests.e2e.test_clustered_conversation import _api_token
from tests.e2e.test_server import RunningServer, TcpProxy, clustered, running_server, via_proxy

pytestmark = [pytest.mark.server, pytest.mark.postgres, pytest.mark.redis]

RECOVERY_DEADLINE_S = 15.0
SSL_REQUEST, GSSENC_REQUEST = 80877103, 80877104


def _error_response(code: str, message: str) -> bytes:
    """A PostgreSQL ErrorResponse message: severity FATAL, SQLSTATE ``code``."""
    fields = b"".join(
        tag + value.encode() + b"\0"
        for tag, value in ((b"S", "FATAL"), (b"V", "FATAL"), (b"C", code), (b"M", message))
    )
    body = fields + b"\0"
    return b"E" + struct.pack("!i", len(body) + 4) + body


class PostgresRestarting:
    """Listens on ``port`` as PostgreSQL does while it restarts: each new connection gets the
    startup packet refused with ``57P03`` (the database system is starting up)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.connections = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._server: asyncio.Server | None = None

    def __enter__(self) -> "PostgresRestarting":
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=10)
        return self

    def __exit__(self, *_: object) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._answer, "127.0.0.1", self.port)

    async def _stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                length, code = struct.unpack("!ii", await reader.readexactly(8))
                if code in (SSL_REQUEST, GSSENC_REQUEST):
                    writer.write(b"N")  # no TLS, no GSSAPI: the client goes on in clear
                    await writer.drain()
                    continue
                await reader.readexactly(length - 8)  # the startup packet's parameters
                writer.write(_error_response("57P03", "the database system is starting up"))
                await writer.drain()
                return
        except (asyncio.IncompleteReadError, OSError):
            return
        finally:
            writer.close()


@pytest.fixture
def postgres_proxy() -> Iterator[TcpProxy]:
    proxy = TcpProxy("127.0.0.1", 5432)
    try:
        proxy.start()
        yield proxy
    finally:
        proxy.close()


READS = (
    "/api/orgs",
    "/api/settings",
    "/api/secrets",
    "/api/conversations",
    "/api/user/git-providers",
)


def _assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, (response.request.url, response.text)
    assert response.headers["content-type"].startswith("application/problem+json")
    assert int(response.headers["retry-after"]) > 0
    problem: dict[str, Any] = response.json()
    assert problem["status"] == 503
    assert problem["code"] == "dependency-unavailable", problem


def _requests(server: RunningServer, auth: dict[str, str]) -> list[httpx.Response]:
    answers = [server.http.get(path, headers=auth) for path in READS]
    answers.append(server.http.post("/api/settings", json={"language": "pt-BR"}, headers=auth))
    return answers


def _until_back(server: RunningServer, auth: dict[str, str]) -> None:
    deadline = time.monotonic() + RECOVERY_DEADLINE_S
    while True:
        answer = server.http.get("/api/orgs", headers=auth)
        if answer.status_code == 200 or time.monotonic() > deadline:
            break
        _assert_unavailable(answer)
        time.sleep(0.2)
    assert answer.status_code == 200, answer.text


def test_every_request_a_database_restart_touches_is_a_503_with_retry_after(
    tmp_path: Path, postgres_url: str, postgres_proxy: TcpProxy
) -> None:
    token = asyncio.run(_api_token(postgres_url))
    auth = {"Authorization": f"Bearer {token}"}
    database = via_proxy(postgres_url, postgres_proxy)
    assert urlsplit(database).port == postgres_proxy.port
    with running_server(
        tmp_path / "server.log", clustered(tmp_path, database, REDIS_URL)
    ) as server:
        for answer in _requests(server, auth)[:-1]:
            assert answer.status_code == 200, answer.text

        postgres_proxy.stop()  # every pooled connection is cut; new ones are refused
        for answer in _requests(server, auth):
            _assert_unavailable(answer)

        with PostgresRestarting(postgres_proxy.port) as restarting:
            for answer in _requests(server, auth):
                _assert_unavailable(answer)
            assert restarting.connections > 0

        postgres_proxy.start()
        _until_back(server, auth)
        for answer in _requests(server, auth):
            assert answer.status_code in (200, 201), answer.text

    records = server.log_records()
    assert not [r for r in records if r.get("event") == "unhandled_error"], records
