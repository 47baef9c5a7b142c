"""Composition root: the only package that imports ``adapters``.

One provider module per adapter family, each reading its own settings section;
``application.ApplicationProvider`` lists the use cases; ``registry.get_providers`` chooses
the families the binding needs.
"""

from entrypoints.ioc.app import create_app
from entrypoints.ioc.commands import (
    agent_server_status,
    create_local_api_key,
    list_local_api_keys,
    migrate,
    revoke_local_api_key,
    rotate_encryption_keys,
    stop_agent_server,
)
from entrypoints.ioc.registry import get_providers

__all__ = (
    "agent_server_status",
    "create_app",
    "create_local_api_key",
    "get_providers",
    "list_local_api_keys",
    "migrate",
    "revoke_local_api_key",
    "rotate_encryption_keys",
    "stop_agent_server",
)
