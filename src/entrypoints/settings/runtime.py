"""Where agents run: the OpenHands agent-server as a child process, one operators run, or
canned answers."""

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from application.conversations.policy import SandboxScope
from entrypoints.settings.fields import Binding, Section, setting
from entrypoints.settings.parsers import choice, host_name, int_in, path, seconds, text, url

__all__ = ("RuntimeKind", "RuntimeSettings", "SandboxSetting")


class SandboxSetting(StrEnum):
    OFF = "off"
    ORG = "org"
    USER = "user"

    @property
    def scope(self) -> SandboxScope | None:
        return None if self is SandboxSetting.OFF else SandboxScope(self.value)


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
    agent_server_listen: str = setting(
        "MAESTRIST_AGENT_SERVER_LISTEN",
        "Local runtime: the address this node's agent-servers listen on. `127.0.0.1` keeps "
        "them to this machine; give one that servers on other machines reach (`0.0.0.0`: "
        "every interface) so they can follow and drive this node's conversations, its own "
        "server gone or not. Each refuses every call without its session key, which only "
        "the database holds, sealed.",
        host_name,
        default="127.0.0.1",
    )
    agent_server_advertise: str | None = setting(
        "MAESTRIST_AGENT_SERVER_ADVERTISE",
        "Local runtime: the host name or address other servers reach this node's "
        "agent-servers at, recorded with each conversation. Unset: the listen address, or "
        "this machine's host name when that is every interface.",
        host_name,
        default=None,
    )

    sandbox: SandboxSetting = setting(
        "MAESTRIST_SANDBOX",
        "Local runtime: whose agents share a sandboxed agent-server process: `org` (one per "
        "organization), `user` (one per person in each organization) or `off` (every agent in "
        "one shared process, which can read every tenant's workspace). Sandboxes need "
        "bubblewrap (`bwrap`).",
        choice(SandboxSetting),
        default=SandboxSetting.ORG,
    )
    sandbox_idle_s: float | None = setting(
        "MAESTRIST_SANDBOX_IDLE",
        "Local runtime: seconds a sandbox is kept after its last use once every conversation "
        "in it has ended; then it stops, and starts again (its conversations resuming) when "
        "next used. Unset: kept.",
        seconds,
        default=900.0,
    )
    sandbox_max: int | None = setting(
        "MAESTRIST_SANDBOX_MAX",
        "Local runtime: sandboxes running at once on one node; starting one more stops the "
        "longest idle whose conversations have all ended, and is refused (503) while none "
        "has. Unset: no cap.",
        int_in(1, 10_000),
        default=None,
    )
    sandbox_memory_mb: int = setting(
        "MAESTRIST_SANDBOX_MEMORY_MB",
        "Local runtime: address space of each process in a sandbox, in MiB.",
        int_in(256, 1_048_576),
        default=8192,
    )
    sandbox_processes: int = setting(
        "MAESTRIST_SANDBOX_PROCESSES",
        "Local runtime: processes and threads at once in one sandbox (a server run as root "
        "holds each sandbox to it with a pids cgroup, where the machine has a cgroup v1 pids "
        "hierarchy; elsewhere only servers not run as root are held to it).",
        int_in(64, 1_000_000),
        default=1024,
    )
    sandbox_cpu_s: int = setting(
        "MAESTRIST_SANDBOX_CPU",
        "Local runtime: CPU seconds each process in a sandbox may use before it is killed (the "
        "sandbox's agent-server too: it starts again on next use, with its conversations).",
        int_in(10, 100_000_000),
        default=14_400,
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
