"""ASGI factory for the production server's workers: settings come from the environment."""

from litestar import Litestar

from entrypoints.ioc import create_app
from entrypoints.ioc.http import ProductionServerProvider
from entrypoints.logging_ import configure_logging
from entrypoints.settings import Settings

__all__ = ("app_from_env",)


def app_from_env() -> Litestar:
    settings = Settings.from_env()
    configure_logging(level=settings.server.log_level, log_format=settings.server.log_format)
    return create_app(settings, ProductionServerProvider())
