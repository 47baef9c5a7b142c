from adapters.openhands.agent_server_env import AGENT_SERVER_VERSION
from adapters.openhands.confinement import SandboxLimits
from adapters.openhands.external_host import ExternalHost
from adapters.openhands.local_host import (
    LocalProcessConfig,
    LocalProcessEnvironmentProbe,
    LocalProcessHost,
    node_name,
)
from adapters.openhands.runtime import AgentServerRuntime, RuntimeReach
from adapters.openhands.sandboxes import SandboxPool, SandboxPoolConfig, SandboxProbe

__all__ = (
    "AGENT_SERVER_VERSION",
    "AgentServerRuntime",
    "ExternalHost",
    "LocalProcessConfig",
    "LocalProcessEnvironmentProbe",
    "LocalProcessHost",
    "RuntimeReach",
    "SandboxLimits",
    "SandboxPool",
    "SandboxPoolConfig",
    "SandboxProbe",
    "node_name",
)
