"""The loopback HTTP server under each fake host, and helpers the provider routes share."""

import base64
import contextlib
import json
import math
import threading
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol, TypeVar
from urllib.parse import parse_qs, unquote, unquote_plus, urlencode, urlsplit

from tests.fakes.git_hosts.state import RecordedCall, Reply

__all__ = (
    "Request",
    "Routed",
    "basic_credentials",
    "bearer",
    "iso",
    "json_reply",
    "link_header",
    "paginate",
    "serve",
)

T = TypeVar("T")
_JOIN_TIMEOUT_S = 10.0
_FORM = "application/x-www-form-urlencoded"


class Request:
    """One request, parsed: method, raw path segments (each percent-decoded once), query."""

    def __init__(self, method: str, target: str, headers: Mapping[str, str], raw: bytes) -> None:
        parts = urlsplit(target)
        self.method = method
        self.raw = raw
        self.raw_path = parts.path
        self.segments = [unquote(s) for s in parts.path.split("/")[1:]]
        self.query = parse_qs(parts.query, keep_blank_values=True)
        self.headers = headers
        content_type = headers.get("content-type", "")
        self.body: Any = None
        if raw and content_type.startswith("application/json"):
            try:
                self.body = json.loads(raw)
            except ValueError:
                self.body = raw.decode(errors="replace")
        elif raw and content_type.startswith(_FORM):
            parsed = parse_qs(raw.decode(), keep_blank_values=True)
            self.body = {k: v[0] for k, v in parsed.items()}
        elif raw:
            self.body = raw.decode(errors="replace")

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def int_arg(self, name: str, default: int) -> int:
        try:
            return int(self.arg(name) or default)
        except ValueError:
            return default

    @property
    def token(self) -> str:
        return bearer(self.headers.get("authorization"))


class Routed(Protocol):
    """A fake host: its state (a ``FakeGitHostState``) plus how it answers a request."""

    base_url: str

    def record(self, call: RecordedCall) -> None: ...

    def route(self, request: Request) -> Reply: ...


def json_reply(status: int, payload: object, headers: Sequence[tuple[str, str]] = ()) -> Reply:
    return Reply(status, json.dumps(payload).encode(), headers=tuple(headers))


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def bearer(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    return token.strip() if scheme.lower() in {"bearer", "token"} else ""


def basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    scheme, _, encoded = (authorization or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except ValueError:
        return None
    client_id, sep, secret = decoded.partition(":")
    return (unquote_plus(client_id), unquote_plus(secret)) if sep else None


def paginate(items: Sequence[T], page: int, per_page: int) -> tuple[list[T], int | None, int]:
    """The ``page`` (from 1) of ``items``, the next page number or None, and the last page."""
    per_page = max(1, min(100, per_page))
    page = max(1, page)
    last = max(1, math.ceil(len(items) / per_page))
    start = (page - 1) * per_page
    chunk = list(items[start : start + per_page])
    return chunk, page + 1 if page < last else None, last


def link_header(
    base_url: str, request: Request, *, page: int, next_page: int | None, last: int
) -> str:
    """An RFC 8288 ``Link`` header like GitHub's and GitLab's: next, last, first, prev."""

    def url(number: int) -> str:
        query = {k: v[0] for k, v in request.query.items()}
        query["page"] = str(number)
        return f"<{base_url}{request.raw_path}?{urlencode(query)}>"

    links = []
    if page > 1:
        links.append(f'{url(page - 1)}; rel="prev"')
    if next_page is not None:
        links.append(f'{url(next_page)}; rel="next"')
    links.append(f'{url(last)}; rel="last"')
    links.append(f'{url(1)}; rel="first"')
    return ", ".join(links)


class _Server(ThreadingHTTPServer):
    daemon_threads = False
    block_on_close = True
    request_queue_size = 256

    def __init__(self, host: Routed) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.host = host


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = _JOIN_TIMEOUT_S
    server_version = "fake-git-host"

    def _serve(self) -> None:
        server = self.server
        assert isinstance(server, _Server)
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        request = Request(self.command, self.path, headers, raw)
        reply = server.host.route(request)
        server.host.record(
            RecordedCall(
                method=request.method,
                path=request.raw_path,
                query=request.query,
                body=request.body,
                authorization=headers.get("authorization"),
                status=reply.status,
            )
        )
        self.send_response(reply.status)
        if reply.body:
            self.send_header("Content-Type", reply.content_type)
        for name, value in reply.headers:
            self.send_header(name, value)
        if reply.status != 204:
            self.send_header("Content-Length", str(len(reply.body)))
        self.send_header("Connection", "close")
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.end_headers()
            self.wfile.write(reply.body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve  # noqa: N815

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Quiet: tests read ``calls`` instead."""


@contextlib.contextmanager
def serve(host: Routed, name: str) -> Iterator[None]:
    """Serve ``host`` on a free loopback port for the ``with`` block; sets its ``base_url``."""
    server = _Server(host)
    address, port = server.server_address[:2]
    host.base_url = f"http://{address!s}:{port}"
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=name, daemon=True
    )
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=_JOIN_TIMEOUT_S)
