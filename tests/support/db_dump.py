"""Every row of every table of a database, as text, for at-rest checks."""

from sqlalchemy import inspect, text

from adapters.sqlalchemy import create_database_engine

__all__ = ("dump_database",)


def _render(value: object) -> str:
    if isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value)
        return f"{raw.hex()} {raw.decode('utf-8', 'replace')}"
    return repr(value)


async def dump_database(url: str) -> str:
    """Every table the database has (whatever the models say), a line a row starting with the
    table's name, every column rendered (bytes both as hex and as text), so a secret stored in
    any form shows up in the dump. PostgreSQL and SQLite alike."""
    engine = create_database_engine(url, pool_size=1, connect_timeout_s=5)
    lines: list[str] = []
    try:
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
            for table in sorted(tables):
                rows = await connection.execute(text(f'SELECT * FROM "{table}"'))
                lines.extend(
                    f"{table}: " + " | ".join(_render(value) for value in row) for row in rows
                )
    finally:
        await engine.dispose()
    return "\n".join(lines)
