"""Composition root: the only package that imports ``adapters``."""

from entrypoints.ioc.app import create_app
from entrypoints.ioc.commands import migrate
from entrypoints.ioc.providers import get_providers

__all__ = ("create_app", "get_providers", "migrate")
