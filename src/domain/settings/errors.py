from domain.shared.errors import ConflictError, InvalidValueError

__all__ = ("InvalidSettingError", "SettingsChangedConcurrentlyError")


class InvalidSettingError(InvalidValueError):
    """A settings value out of its bounds; ``field`` is the setting's attribute name. For a
    setting made of parts (the MCP servers), ``path`` says which part (``sse_servers[0].url``)
    and ``reason`` what is wrong with it; the message then reads ``field.path: reason``."""

    code = "invalid-setting"
    default_message = "A setting has a value it cannot take."

    def __init__(
        self, message: str | None = None, *, field: str | None = None, path: str | None = None
    ) -> None:
        self.reason = message or self.default_message
        self.path = path
        super().__init__(
            self.reason if path is None else f"{field}.{path}: {self.reason}", field=field
        )


class SettingsChangedConcurrentlyError(ConflictError):
    """Two first saves of the same settings raced; the loser changed nothing."""

    code = "settings-changed-concurrently"
    default_message = "The settings were saved by another request at the same time; try again."
