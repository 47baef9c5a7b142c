"""What ``maestrist serve`` does before it listens that needs adapters: start building the
local agent-server's virtualenv."""

import subprocess
import sys
from dataclasses import dataclass

from adapters.openhands.agent_server_env import EnvironmentState
from entrypoints.ioc.runtime import local_agent_server
from entrypoints.settings import RuntimeKind, Settings

__all__ = ("AgentServerEnvBuild", "start_agent_server_env_build")


@dataclass(frozen=True, slots=True)
class AgentServerEnvBuild:
    """A build of the agent-server's virtualenv running in the background."""

    process: subprocess.Popen[bytes]
    venv: str
    log: str


def start_agent_server_env_build(settings: Settings) -> AgentServerEnvBuild | None:
    """Start building the local runtime's virtualenv when it is not complete, and return once
    the build has said so on disk (workers then report the runtime as ``preparing``); None
    when there is nothing to build. The build writes one line to stderr when it ends."""
    if settings.runtime.kind is not RuntimeKind.LOCAL:
        return None
    host = local_agent_server(settings)
    if host.environment().state is EnvironmentState.READY:
        return None
    venv = settings.runtime.agent_server_venv.absolute()
    command = [
        sys.executable,
        "-m",
        "adapters.openhands.build_agent_server_env",
        "--venv",
        str(venv),
        "--status",
        str(host.environment_status_path),
        "--log",
        str(host.environment_log_path),
    ]
    if settings.runtime.agent_server_python:
        command += ["--python", settings.runtime.agent_server_python]
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE
    )
    assert process.stdout is not None
    process.stdout.readline()  # "building": the status file is written (or the build died)
    process.stdout.close()
    return AgentServerEnvBuild(process=process, venv=str(venv), log=str(host.environment_log_path))
