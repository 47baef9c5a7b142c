"""Outermost ASGI layer: a request id on every response and in every log line of the request."""

import os
import re
import time

import structlog
from litestar.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ("REQUEST_ID_HEADER", "RequestIdMiddleware")

REQUEST_ID_HEADER = "x-request-id"
_HEADER = REQUEST_ID_HEADER.encode()
_ACCEPTABLE = re.compile(rb"[A-Za-z0-9._:-]{1,128}")
_log = structlog.get_logger("maestrist.access")


class RequestIdMiddleware:
    """Take a well-formed incoming ``X-Request-ID`` or make one; echo it and bind it to logs."""

    def __init__(self, app: ASGIApp, *, access_log: bool) -> None:
        self._app = app
        self._access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self._app(scope, receive, send)
            return
        request_id = _incoming(scope) or os.urandom(16).hex()  # as random as a uuid4, cheaper
        scope.setdefault("state", {})["request_id"] = request_id
        header = (_HEADER, request_id.encode())
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        tokens = structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        try:
            await self._app(scope, receive, send_with_id)
        finally:
            if self._access_log:
                _log.info(
                    "request",
                    method=scope.get("method", "WS"),
                    path=scope["path"],
                    status=status,
                    duration_ms=round((time.perf_counter() - started) * 1000, 2),
                )
            structlog.contextvars.reset_contextvars(**tokens)


def _incoming(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == _HEADER:
            return value.decode() if _ACCEPTABLE.fullmatch(value) else None
    return None
