from domain.shared.errors import InvalidValueError

__all__ = ("InvalidSettingError",)


class InvalidSettingError(InvalidValueError):
    """A settings value out of its bounds; ``field`` is the setting's wire name."""

    code = "invalid-setting"
    default_message = "A setting has a value it cannot take."
