from application.errors import DependencyUnavailableError

__all__ = ("RuntimeAuthRefusedError",)


class RuntimeAuthRefusedError(DependencyUnavailableError):
    """The conversation runtime refused our session key: a configuration fault, not the
    user's, so it answers like any unavailable dependency."""

    code = "runtime-auth-refused"
    default_message = "The agent runtime refused the server's credentials."
