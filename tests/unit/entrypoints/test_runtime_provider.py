from pathlib import Path

from dishka import Provider, Scope, from_context, make_async_container, provide

from adapters.openhands import AgentServerRuntime, ExternalHost, LocalProcessHost
from adapters.scripted import ScriptedHost, ScriptedRuntime
from application.ports.conversation_runtime import ConversationRuntime, RuntimeHost
from application.ports.unit_of_work import UnitsOfWork
from domain.conversations import HostHealth
from entrypoints.ioc.runtime import RuntimeProvider
from entrypoints.settings import Settings
from tests.fakes import FakeStore
from tests.fakes.unit_of_work import FakeUnitsOfWork


class SettingsContext(Provider):
    settings = from_context(provides=Settings, scope=Scope.APP)

    @provide(scope=Scope.APP)
    def units(self) -> UnitsOfWork:
        return FakeUnitsOfWork(FakeStore())


async def resolve(settings: Settings) -> tuple[ConversationRuntime, RuntimeHost]:
    container = make_async_container(
        SettingsContext(), RuntimeProvider(), context={Settings: settings}
    )
    try:
        return await container.get(ConversationRuntime), await container.get(RuntimeHost)
    finally:
        await container.close()


async def test_the_scripted_runtime_needs_no_agent_server(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {"MAESTRIST_DATA_DIR": str(tmp_path), "MAESTRIST_RUNTIME": "scripted"}
    )
    runtime, host = await resolve(settings)
    assert isinstance(runtime, ScriptedRuntime)
    assert isinstance(host, ScriptedHost)
    assert await host.health() is HostHealth.UP


async def test_the_local_runtime_starts_nothing_until_asked(tmp_path: Path) -> None:
    settings = Settings.from_env({"MAESTRIST_DATA_DIR": str(tmp_path)})
    runtime, host = await resolve(settings)
    assert isinstance(runtime, AgentServerRuntime)
    assert isinstance(host, LocalProcessHost)
    assert host.pid is None
    assert host.log_path == tmp_path.absolute() / "agent-server" / "agent-server.log"
    assert not (tmp_path / "agent-server").exists()


async def test_the_external_runtime_reaches_the_configured_address(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "MAESTRIST_DATA_DIR": str(tmp_path),
            "MAESTRIST_RUNTIME": "external",
            "MAESTRIST_AGENT_SERVER_URL": "http://127.0.0.1:9/",
            "MAESTRIST_AGENT_SERVER_KEY": "k",
        }
    )
    runtime, host = await resolve(settings)
    assert isinstance(runtime, AgentServerRuntime)
    assert isinstance(host, ExternalHost)
    info = await host.ensure_running()
    assert (info.base_url, info.session_key) == ("http://127.0.0.1:9", "k")
    assert await host.health() is HostHealth.DOWN
