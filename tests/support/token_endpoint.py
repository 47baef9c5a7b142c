"""A stand-in for our ``GET /api/runtime/git-token``: the bare token to the right credential."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ("CREDENTIAL", "TokenEndpoint", "run_token_endpoint")

CREDENTIAL = "short-lived.credential'with-quote"


class TokenEndpoint:
    """Answers the bare token to the right credential, like ``GET /api/runtime/git-token``."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.calls = 0
        self.accepted = {CREDENTIAL}
        self.presented: list[str] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                endpoint.calls += 1
                presented = self.headers.get("X-Access-Token") or ""
                endpoint.presented.append(presented)
                ok = presented in endpoint.accepted
                body = endpoint.token.encode() if ok else b"refused"
                self.send_response(200 if ok else 401)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/runtime/git-token"


@contextmanager
def run_token_endpoint(token: str) -> Iterator[TokenEndpoint]:
    served = TokenEndpoint(token)
    thread = threading.Thread(target=served.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield served
    finally:
        served.server.shutdown()
        served.server.server_close()
