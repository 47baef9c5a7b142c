"""Structured logs on stderr: one JSON object a line (or console text), request id bound per
request. Standard output is left to what a command prints as its result."""

import logging
import sys
from typing import TextIO

import structlog

from entrypoints.settings import LogFormat

__all__ = ("configure_logging",)


def configure_logging(
    *, level: str, log_format: LogFormat | None, stream: TextIO | None = None
) -> None:
    """Route structlog and the standard library through one handler on ``stream`` (stderr).

    Without a ``log_format``, a terminal gets console text and anything else (a pipe, a file,
    a collector) gets JSON.
    """
    out = sys.stderr if stream is None else stream
    terminal = out.isatty()
    if log_format is None:
        log_format = LogFormat.CONSOLE if terminal else LogFormat.JSON
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if log_format is LogFormat.JSON
        # Plain tracebacks: the default one prints each frame's local variables, which can
        # hold tokens, keys and request bodies.
        else structlog.dev.ConsoleRenderer(
            colors=terminal, exception_formatter=structlog.dev.plain_traceback
        )
    )
    structlog.configure(
        processors=[
            *shared,
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # alembic.runtime.plugins lists its plugins when alembic is first imported, which a
    # server's workers do after the process they are forked from set up its logging.
    for noisy in (
        "sqlalchemy.engine",
        "aiosqlite",
        "asyncio",
        "httpx",
        "httpcore",
        "alembic.runtime.plugins",
    ):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
