"""Autogenerate a migration from the models against a scratch SQLite database at head."""

import asyncio
import sys
import tempfile
from pathlib import Path

from alembic import command

from adapters.sqlalchemy.engine import create_database_engine
from adapters.sqlalchemy.migrator import migration_config, upgrade_to_head


def main(message: str) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite+aiosqlite:///{Path(scratch) / 'scratch.db'}"
        engine = create_database_engine(url, pool_size=1, connect_timeout_s=5)
        asyncio.run(upgrade_to_head(engine))
        config = migration_config()
        config.set_main_option("sqlalchemy.url", url)
        command.revision(config, message=message, autogenerate=True)


if __name__ == "__main__":
    main(" ".join(sys.argv[1:]) or "change")
