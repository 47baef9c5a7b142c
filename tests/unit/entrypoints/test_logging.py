import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from entrypoints.logging_ import configure_logging
from entrypoints.settings import LogFormat


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    yield
    logging.getLogger().handlers.clear()
    structlog.reset_defaults()


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("log_format", [LogFormat.JSON, LogFormat.CONSOLE])
def test_a_logged_traceback_never_shows_local_variables(
    log_format: LogFormat, capsys: pytest.CaptureFixture[str]
) -> None:
    """A token in a local variable of a failing frame stays out of the log, in both formats."""

    def fail_holding_a_secret() -> None:
        token = "ghp_secret-token-in-a-local"
        raise RuntimeError(f"failed after {len(token)} characters")

    configure_logging(level="INFO", log_format=log_format)
    try:
        fail_holding_a_secret()
    except RuntimeError:
        structlog.get_logger("test").exception("request_failed")
    err = capsys.readouterr().err
    assert "fail_holding_a_secret" in err
    assert "ghp_secret-token-in-a-local" not in err


def test_logs_go_to_stderr_and_leave_stdout_to_results(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(level="INFO", log_format=None)
    structlog.get_logger("test").info("structured_event")
    logging.getLogger("library").warning("standard library event")
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "structured_event" in captured.err
    assert "standard library event" in captured.err


def test_without_a_format_a_terminal_reads_console_text_and_a_pipe_json() -> None:
    terminal, pipe = _Terminal(), io.StringIO()
    configure_logging(level="INFO", log_format=None, stream=terminal)
    structlog.get_logger("test").info("for_people", answer=42)
    configure_logging(level="INFO", log_format=None, stream=pipe)
    structlog.get_logger("test").info("for_collectors", answer=42)

    [shown] = terminal.getvalue().splitlines()
    assert "for_people" in shown
    assert not shown.lstrip().startswith("{")
    [record] = [json.loads(line) for line in pipe.getvalue().splitlines()]
    assert record["event"] == "for_collectors"
    assert record["answer"] == 42


def test_a_configured_format_wins_over_the_terminal() -> None:
    terminal = _Terminal()
    configure_logging(level="INFO", log_format=LogFormat.JSON, stream=terminal)
    structlog.get_logger("test").info("collected")
    assert json.loads(terminal.getvalue())["event"] == "collected"
