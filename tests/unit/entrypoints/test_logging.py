import logging

import pytest
import structlog

from entrypoints.logging_ import configure_logging


@pytest.mark.parametrize("json", [True, False], ids=["json", "console"])
def test_a_logged_traceback_never_shows_local_variables(
    json: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    """A token in a local variable of a failing frame stays out of the log, in both formats."""

    def fail_holding_a_secret() -> None:
        token = "ghp_secret-token-in-a-local"
        raise RuntimeError(f"failed after {len(token)} characters")

    configure_logging(level="INFO", json=json)
    try:
        try:
            fail_holding_a_secret()
        except RuntimeError:
            structlog.get_logger("test").exception("request_failed")
        out = capsys.readouterr().out
    finally:
        logging.getLogger().handlers.clear()
        structlog.reset_defaults()
    assert "fail_holding_a_secret" in out
    assert "ghp_secret-token-in-a-local" not in out
