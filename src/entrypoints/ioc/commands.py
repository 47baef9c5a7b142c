"""Operator commands that need adapters, so they live in the composition root."""

import asyncio

from adapters.sqlalchemy import create_database_engine, upgrade_to_head
from entrypoints.settings import Settings

__all__ = ("migrate",)


async def _migrate(settings: Settings) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_database_engine(
        settings.effective_database_url,
        pool_size=1,
        connect_timeout_s=settings.dependency_timeout_s,
    )
    try:
        await upgrade_to_head(engine)
    finally:
        await engine.dispose()


def migrate(settings: Settings) -> None:
    """Apply every pending migration to the database ``settings`` points at."""
    asyncio.run(_migrate(settings))
