import socket
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NewType

from dishka import Provider, Scope, provide

from adapters.openhands import (
    AgentServerRuntime,
    ExternalHost,
    LocalProcessConfig,
    LocalProcessEnvironmentProbe,
    LocalProcessHost,
    RuntimeReach,
    SandboxLimits,
    SandboxPool,
    SandboxPoolConfig,
    SandboxProbe,
)
from adapters.scripted import Finish, ScriptedHost, ScriptedRuntime, ScriptedWorld
from application.ports.conversation_runtime import ConversationRuntime, RuntimeHost
from application.ports.dependency_probe import DependencyProbe
from application.ports.unit_of_work import UnitsOfWork
from entrypoints.settings import RuntimeKind, Settings

__all__ = (
    "SCRIPTED_DEMO_ANSWER",
    "RuntimeProbes",
    "RuntimeProvider",
    "Sandboxes",
    "local_agent_server",
    "sandbox_pool",
    "workspace_root",
)

RuntimeProbes = NewType("RuntimeProbes", Sequence[DependencyProbe])
"""What readiness checks of the runtime: the local one's virtualenv, nothing for the others."""

SCRIPTED_DEMO_ANSWER = (
    "This server runs the scripted runtime, so no agent worked on this. "
    "Set MAESTRIST_RUNTIME=local to run the OpenHands agent."
)


def local_agent_server(settings: Settings) -> LocalProcessHost:
    """The host of the agent-server this installation runs as a child process."""
    return LocalProcessHost(
        LocalProcessConfig(
            venv=settings.runtime.agent_server_venv.absolute(),
            data_dir=settings.data_dir.absolute() / "agent-server",
            startup_timeout_s=settings.runtime.agent_server_startup_timeout_s,
            listen=settings.runtime.agent_server_listen,
        )
    )


def advertised_host(settings: Settings) -> str:
    """Where other nodes reach this node's agent-servers."""
    runtime = settings.runtime
    if runtime.agent_server_advertise is not None:
        return runtime.agent_server_advertise
    if runtime.agent_server_listen in ("0.0.0.0", "::"):  # noqa: S104
        return socket.gethostname()
    return runtime.agent_server_listen


def workspace_root(settings: Settings) -> str:
    """Where conversations' workspaces go on the runtime's machine."""
    if settings.runtime.kind is RuntimeKind.EXTERNAL:
        return "/workspace/conversations"
    return str(settings.data_dir.absolute() / "workspaces")


def sandbox_pool(settings: Settings) -> SandboxPool | None:
    """The local runtime's sandboxes, unless ``MAESTRIST_SANDBOX`` is off."""
    if settings.runtime.kind is not RuntimeKind.LOCAL or settings.runtime.sandbox.scope is None:
        return None
    runtime = settings.runtime
    return SandboxPool(
        SandboxPoolConfig(
            venv=runtime.agent_server_venv.absolute(),
            root=settings.data_dir.absolute() / "agent-server" / "sandboxes",
            workspace_root=Path(workspace_root(settings)),
            limits=SandboxLimits(
                memory_bytes=runtime.sandbox_memory_mb * 1024 * 1024,
                processes=runtime.sandbox_processes,
                cpu_seconds=runtime.sandbox_cpu_s,
            ),
            environment_status=local_agent_server(settings).environment_status_path,
            idle_s=runtime.sandbox_idle_s,
            max_running=runtime.sandbox_max,
            startup_timeout_s=runtime.agent_server_startup_timeout_s,
            listen=runtime.agent_server_listen,
        )
    )


@dataclass(frozen=True, slots=True)
class Sandboxes:
    """The local runtime's sandboxes, or None when agents run without them."""

    pool: SandboxPool | None


class RuntimeProvider(Provider):
    """The conversation runtime ``MAESTRIST_RUNTIME`` selects and the host it runs on. At
    shutdown both let go of their connections; a local agent-server keeps running, and the
    next start adopts it."""

    @provide(scope=Scope.APP)
    async def host(self, settings: Settings) -> AsyncIterator[RuntimeHost]:
        host: RuntimeHost
        if settings.runtime.kind is RuntimeKind.EXTERNAL:
            assert settings.runtime.agent_server_url is not None
            assert settings.runtime.agent_server_key is not None
            host = ExternalHost(
                settings.runtime.agent_server_url, settings.runtime.agent_server_key
            )
        elif settings.runtime.kind is RuntimeKind.LOCAL:
            host = local_agent_server(settings)
        else:
            host = ScriptedHost()
        yield host
        await host.aclose()

    @provide(scope=Scope.APP)
    async def sandboxes(self, settings: Settings) -> AsyncIterator[Sandboxes]:
        pool = sandbox_pool(settings)
        yield Sandboxes(pool)
        if pool is not None:
            await pool.aclose()

    @provide(scope=Scope.APP)
    def probes(self, host: RuntimeHost, sandboxes: Sandboxes) -> RuntimeProbes:
        if sandboxes.pool is not None:
            return RuntimeProbes((SandboxProbe(sandboxes.pool),))
        if isinstance(host, LocalProcessHost):
            return RuntimeProbes((LocalProcessEnvironmentProbe(host),))
        return RuntimeProbes(())

    @provide(scope=Scope.APP)
    async def runtime(
        self, settings: Settings, host: RuntimeHost, sandboxes: Sandboxes, units: UnitsOfWork
    ) -> AsyncIterator[ConversationRuntime]:
        if settings.runtime.kind is RuntimeKind.SCRIPTED:
            world = ScriptedWorld(default=Finish(message=SCRIPTED_DEMO_ANSWER))
            yield ScriptedRuntime(world)
            await world.aclose()
            return
        reach = None
        if settings.runtime.kind is RuntimeKind.LOCAL:
            reach = RuntimeReach(
                units,
                node_dir=settings.data_dir.absolute() / "agent-server",
                advertise=advertised_host(settings),
            )
        runtime = AgentServerRuntime(host, sandboxes=sandboxes.pool, reach=reach)
        yield runtime
        await runtime.aclose()
