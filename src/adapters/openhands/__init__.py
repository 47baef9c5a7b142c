from adapters.openhands.agent_server_env import AGENT_SERVER_VERSION
from adapters.openhands.confinement import SandboxLimits
from adapters.openhands.external_host import ExternalHost
from adapters.openhands.local_host import (
    LocalProcessConfig,
    LocalProcessEnvironmentProbe,
    LocalProcessHost,
)
from adapters.openhands.runtime import AgentServerRuntime
from adapters.openhands.sandboxes import SandboxPool, SandboxPoolConfig, SandboxProbe

__all__ = (
    "AGENT_SERVER_VERSION",
    "AgentServerRuntime",
    "ExternalHost",
    "LocalProcessConfig",
    "LocalProcessEnvironmentProbe",
    "LocalProcessHost",
    "SandboxLimits",
    "SandboxPool",
    "SandboxPoolConfig",
    "SandboxProbe",
)
