"""A PostHog stand-in on loopback for the real SDK: it takes captured events (``POST
/batch/``, gzipped or not), serves flag definitions for local evaluation (``GET
/flags/definitions``, to the secret key only) and evaluates flags remotely (``POST
/flags/?v=...``), bucketing people as ``tests.fakes.feature_flags.bucket`` does."""

import gzip
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fakes.feature_flags import FlagDefinition, bucket

__all__ = ("PostHogReceiver", "closed_port_url", "run_posthog")

PROJECT_KEY = "phc_test_project"
SECRET_KEY = "phs_test_secret_never_sent_in_events"


@dataclass
class PostHogReceiver:
    """What the stand-in was sent and what it serves; safe to read from the test's thread."""

    project_key: str = PROJECT_KEY
    secret_key: str = SECRET_KEY
    url: str = ""
    flags: dict[str, FlagDefinition] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    """Every captured message, as sent (``event``, ``distinct_id``, ``properties``...)."""
    bodies: list[bytes] = field(default_factory=list)
    """Every capture request's body, decompressed: to look for what must never be sent."""
    gzipped: int = 0
    definition_polls: int = 0
    refused: int = 0
    """Requests with a wrong key."""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def define(self, *flags: FlagDefinition) -> None:
        """Serve these definitions, and only these, from now on."""
        with self._lock:
            self.flags = {flag.key: flag for flag in flags}

    def named(self, event: str) -> list[dict[str, Any]]:
        with self._lock:
            return [e for e in self.events if e.get("event") == event]

    def captured(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.events)

    def take_batch(self, body: bytes, encoding: str | None) -> bool:
        if encoding == "gzip":
            body = gzip.decompress(body)
        payload = json.loads(body)
        if payload.get("api_key") != self.project_key:
            return False
        with self._lock:
            self.gzipped += encoding == "gzip"
            self.bodies.append(body)
            self.events.extend(payload.get("batch", []))
        return True

    def definitions(self) -> dict[str, Any]:
        with self._lock:
            self.definition_polls += 1
            flags = list(self.flags.values())
        return {
            "flags": [_definition(n, flag) for n, flag in enumerate(flags, start=1)],
            "group_type_mapping": {},
            "cohorts": {},
        }

    def evaluate(self, distinct_id: str) -> dict[str, Any]:
        with self._lock:
            flags = list(self.flags.values())
        evaluated = {}
        for n, flag in enumerate(flags, start=1):
            variant = bucket(flag, distinct_id)
            evaluated[flag.key] = {
                "key": flag.key,
                "enabled": variant is not None,
                "variant": variant,
                "reason": {"code": "condition_match" if variant else "no_condition_match"},
                "metadata": {"id": n, "version": 1, "payload": None},
            }
        return {"flags": evaluated, "errorsWhileComputingFlags": False, "requestId": "test"}


def _definition(id_: int, flag: FlagDefinition) -> dict[str, Any]:
    """A flag as the local-evaluation endpoint describes it."""
    return {
        "id": id_,
        "name": flag.key,
        "key": flag.key,
        "active": flag.active,
        "deleted": False,
        "ensure_experience_continuity": False,
        "filters": {
            "groups": [{"properties": [], "rollout_percentage": flag.rollout}],
            "multivariate": {
                "variants": [
                    {"key": variant, "rollout_percentage": share}
                    for variant, share in flag.variants.items()
                ]
            },
            "payloads": {},
        },
    }


def _handler(receiver: PostHogReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            del format, args

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def do_POST(self) -> None:
            path = urlsplit(self.path).path
            body = self._body()
            if path.rstrip("/") == "/batch":
                if receiver.take_batch(body, self.headers.get("Content-Encoding")):
                    self._answer(200, {"status": 1})
                else:
                    receiver.refused += 1
                    self._answer(401, {"detail": "invalid project key"})
            elif path.rstrip("/") == "/flags":
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                asked = json.loads(body)
                if asked.get("api_key") != receiver.project_key:
                    receiver.refused += 1
                    self._answer(401, {"detail": "invalid project key"})
                    return
                self._answer(200, receiver.evaluate(str(asked.get("distinct_id"))))
            else:
                self._answer(404, {"detail": "not found"})

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if parts.path.rstrip("/") != "/flags/definitions":
                self._answer(404, {"detail": "not found"})
                return
            token = parse_qs(parts.query).get("token", [""])[0]
            bearer = self.headers.get("Authorization", "")
            if token != receiver.project_key or bearer != f"Bearer {receiver.secret_key}":
                receiver.refused += 1
                self._answer(401, {"detail": "invalid secret key"})
                return
            self._answer(200, receiver.definitions())

    return Handler


@contextmanager
def run_posthog(*flags: FlagDefinition) -> Iterator[PostHogReceiver]:
    """The stand-in on a free loopback port, serving ``flags``, until the block ends."""
    receiver = PostHogReceiver()
    receiver.define(*flags)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="posthog-stand-in", daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def closed_port_url() -> str:
    """A loopback address nothing listens on: PostHog down."""
    with ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler) as server:
        port = server.server_address[1]
    return f"http://127.0.0.1:{port}"
