from collections.abc import AsyncIterator, Sequence
from typing import NewType

from dishka import Provider, Scope, provide

from adapters.openhands import (
    AgentServerRuntime,
    ExternalHost,
    LocalProcessConfig,
    LocalProcessEnvironmentProbe,
    LocalProcessHost,
)
from adapters.scripted import Finish, ScriptedHost, ScriptedRuntime, ScriptedWorld
from application.ports.conversation_runtime import ConversationRuntime, RuntimeHost
from application.ports.dependency_probe import DependencyProbe
from entrypoints.settings import RuntimeKind, Settings

__all__ = ("SCRIPTED_DEMO_ANSWER", "RuntimeProbes", "RuntimeProvider", "local_agent_server")

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
        )
    )


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
    def probes(self, host: RuntimeHost) -> RuntimeProbes:
        if isinstance(host, LocalProcessHost):
            return RuntimeProbes((LocalProcessEnvironmentProbe(host),))
        return RuntimeProbes(())

    @provide(scope=Scope.APP)
    async def runtime(
        self, settings: Settings, host: RuntimeHost
    ) -> AsyncIterator[ConversationRuntime]:
        if settings.runtime.kind is RuntimeKind.SCRIPTED:
            world = ScriptedWorld(default=Finish(message=SCRIPTED_DEMO_ANSWER))
            yield ScriptedRuntime(world)
            await world.aclose()
            return
        runtime = AgentServerRuntime(host)
        yield runtime
        await runtime.aclose()
