from domain.shared.errors import ConflictError, InvalidValueError

__all__ = ("InvalidSettingError", "SettingsChangedConcurrentlyError")


class InvalidSettingError(InvalidValueError):
    """A settings value out of its bounds; ``field`` is the setting's wire name."""

    code = "invalid-setting"
    default_message = "A setting has a value it cannot take."


class SettingsChangedConcurrentlyError(ConflictError):
    """Two first saves of the same settings raced; the loser changed nothing."""

    code = "settings-changed-concurrently"
    default_message = "The settings were saved by another request at the same time; try again."
