"""Where agents run: the OpenHands agent-server as a child process, one operators run, or
canned answers."""

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from entrypoints.settings.fields import Binding, Section, setting
from entrypoints.settings.parsers import choice, path, seconds, text, url

__all__ = ("RuntimeKind", "RuntimeSettings")


class RuntimeKind(StrEnum):
    SCRIPTED = "scripted"
    LOCAL = "local"
    EXTERNAL = "external"


@dataclass(frozen=True, slots=True, kw_only=True)
class RuntimeSettings(Section):
    """The conversation runtime and its agent-server."""

    kind: RuntimeKind = setting(
        "MAESTRIST_RUNTIME",
        "Where agents run: `local` (the OpenHands agent-server as a child process, from its "
        "own virtualenv), `external` (an agent-server operators run) or `scripted` (canned "
        "answers in-process, no LLM: for demos and tests).",
        choice(RuntimeKind),
        default=RuntimeKind.LOCAL,
    )
    agent_server_venv: Path = setting(
        "MAESTRIST_AGENT_SERVER_VENV",
        "Local runtime: the agent-server's virtualenv; `maestrist serve` builds it in the "
        "background when it is missing, `just agent-server-env` in the foreground.",
        path,
        default=Path(".venv-agent-server"),
    )
    agent_server_python: str | None = setting(
        "MAESTRIST_AGENT_SERVER_PYTHON",
        "Local runtime: the Python 3.12 or newer that builds that virtualenv. Unset: the "
        "first of `python3.13`, `python3.12`, `python3` and pyenv's versions that runs.",
        text,
        default=None,
    )
    agent_server_url: str | None = setting(
        "MAESTRIST_AGENT_SERVER_URL",
        "External runtime, required there: the agent-server's base URL.",
        url("http", "https"),
        default=None,
    )
    agent_server_key: str | None = setting(
        "MAESTRIST_AGENT_SERVER_KEY",
        "External runtime, required there: its session API key.",
        text,
        default=None,
        secret=True,
    )
    agent_server_startup_timeout_s: float = setting(
        "MAESTRIST_AGENT_SERVER_STARTUP_TIMEOUT",
        "Local runtime: seconds the agent-server gets to become ready.",
        seconds,
        default=90.0,
    )

    def problems(self, binding: Binding) -> dict[str, str]:
        del binding
        external = self.kind is RuntimeKind.EXTERNAL
        return {
            name: "required when MAESTRIST_RUNTIME=external"
            if external
            else "only MAESTRIST_RUNTIME=external uses it"
            for name, value in (
                ("MAESTRIST_AGENT_SERVER_URL", self.agent_server_url),
                ("MAESTRIST_AGENT_SERVER_KEY", self.agent_server_key),
            )
            if (value is None) is external
        }
