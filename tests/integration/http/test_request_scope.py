"""A request's objects are freed by reference counting when it ends, not left for the cyclic
garbage collector (the dishka request scope used to tie the ASGI scope into a cycle)."""

import gc
from typing import Any, cast

import pytest
from dishka import AsyncContainer
from litestar import Litestar
from litestar.types import HTTPReceiveMessage, HTTPScope, Message, Receive, Scope, Send

from entrypoints.http.health import LIVENESS_PATH
from entrypoints.http.request_scope import RequestScopeMiddleware
from entrypoints.ioc import create_app
from entrypoints.settings import Settings

REQUESTS = 50


async def _get(app: Litestar, path: str) -> int:
    """One GET through the whole ASGI stack on this event loop; the response status."""
    statuses: list[int] = []

    async def receive() -> HTTPReceiveMessage:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver.local")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    await app(cast("HTTPScope", scope), receive, send)
    return statuses[0]


@pytest.mark.parametrize("path", ["/health/live", "/api/user/me"])
async def test_requests_leave_no_cyclic_garbage(embedded_settings: Settings, path: str) -> None:
    app = create_app(embedded_settings)
    async with app.lifespan():
        assert await _get(app, path) == 200  # caches warm
        gc.collect()
        gc.disable()
        try:
            for _ in range(REQUESTS):
                assert await _get(app, path) == 200
            unreachable = gc.collect()
        finally:
            gc.enable()
    # Each request used to leave about 15 objects in a cycle; fewer than one a request leaves
    # room for whatever else the event loop did meanwhile.
    assert unreachable < REQUESTS


class _RefusingContainer:
    """A container that fails the request if a scope is opened from it."""

    def __call__(self, *_args: object, **_kwargs: object) -> object:
        raise AssertionError("a request scope was opened")


async def test_liveness_is_answered_without_opening_a_request_scope() -> None:
    reached: list[str] = []

    async def app(scope: Scope, _receive: Receive, _send: Send) -> None:
        reached.append(scope["path"])

    async def receive() -> HTTPReceiveMessage:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(_message: Message) -> None:
        return None

    middleware = RequestScopeMiddleware(
        app,
        cast("AsyncContainer", _RefusingContainer()),
        bare_paths=frozenset({LIVENESS_PATH}),
    )
    await middleware(cast("Scope", {"type": "http", "path": LIVENESS_PATH}), receive, send)
    assert reached == [LIVENESS_PATH]
    with pytest.raises(AssertionError, match="request scope was opened"):
        await middleware(cast("Scope", {"type": "http", "path": "/api/user/me"}), receive, send)
    assert reached == [LIVENESS_PATH]
