"""An OpenAI-compatible chat-completions server on loopback, scripted per test with the steps
of ``adapters.scripted``: the real agent-server's LLM in the runtime contract tests."""

import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from adapters.scripted import Fail, Finish, Reply, Slow, Step, ToolCall

__all__ = ("StubLLM", "run_stub_llm")

API_KEY = "stub-key"
MODEL = "openai/stub-model"


class StubLLM:
    """Answers each completion with the next scripted step (``finish`` when none is left) and
    requests without tools (title generation) with text. Records every request body."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._steps: deque[Step] = deque()
        self._released = threading.Event()
        self._holding = 0
        """Slow replies held now."""
        self.requests: list[dict[str, Any]] = []
        self.authorizations: list[str | None] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    @property
    def holding(self) -> int:
        """How many slow replies are held now."""
        with self._lock:
            return self._holding

    def script(self, *steps: Step) -> None:
        with self._lock:
            self._steps.extend(steps)

    def release(self) -> None:
        """Let every slow reply in progress answer now; with none in progress, the next step,
        if slow, answers at once when asked for (the agent may not have asked yet: a test
        releasing it has seen the step before, not the agent's next request)."""
        with self._lock:
            released, self._released = self._released, threading.Event()
            if not self._holding and self._steps and isinstance(self._steps[0], Slow):
                self._steps[0] = self._steps[0].then
        released.set()

    def reset(self) -> None:
        with self._lock:
            self._steps.clear()
            self.requests.clear()
            self.authorizations.clear()
        self.release()

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _next(self, body: dict[str, Any], authorization: str | None) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.requests.append(body)
            self.authorizations.append(authorization)
            if not body.get("tools"):
                return 200, _text("Scripted title")
            step = self._steps.popleft() if self._steps else Finish()
            released = self._released
            if isinstance(step, Slow):
                self._holding += 1
        if isinstance(step, Slow):
            deadline = time.monotonic() + step.seconds
            released.wait(max(0.0, deadline - time.monotonic()))
            with self._lock:
                self._holding -= 1
            step = step.then
        if isinstance(step, Fail):
            return step.status, {"error": {"message": step.detail, "type": step.code}}
        return 200, _answer(step)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    body = {}
                if not self.path.endswith("/chat/completions"):
                    self._send(404, {"error": {"message": f"no route {self.path}"}})
                    return
                self._send(*stub._next(body, self.headers.get("authorization")))

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the caller gave up (an interrupted run)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

        return Handler


def _completion(message: dict[str, Any], finish_reason: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "created": 0,
        "model": "stub-model",
        "choices": [{"index": 0, "finish_reason": finish_reason, "message": message}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    }


def _text(text: str) -> dict[str, Any]:
    return _completion({"role": "assistant", "content": text}, "stop")


_calls = iter(range(1, 1 << 62))


def _tool(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    call = {
        "id": f"call_{next(_calls)}",
        "type": "function",
        "function": {"name": name, "arguments": json.dumps(arguments)},
    }
    return _completion({"role": "assistant", "content": None, "tool_calls": [call]}, "tool_calls")


def _answer(step: Finish | Reply | ToolCall) -> dict[str, Any]:
    if isinstance(step, Reply):
        return _text(step.text)
    if isinstance(step, Finish):
        return _tool("finish", {"message": step.message})
    return _tool(step.tool, dict(step.arguments))


@contextmanager
def run_stub_llm() -> Iterator[StubLLM]:
    stub = StubLLM()
    stub.start()
    try:
        yield stub
    finally:
        stub.close()
