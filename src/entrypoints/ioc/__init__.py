"""Composition root: the only package that imports ``adapters``."""

from entrypoints.ioc.app import create_app
from entrypoints.ioc.commands import create_local_api_key, migrate, rotate_encryption_keys
from entrypoints.ioc.providers import get_providers

__all__ = (
    "create_app",
    "create_local_api_key",
    "get_providers",
    "migrate",
    "rotate_encryption_keys",
)
