"""The embedded binding's single local user, and whether requests must still carry a key."""

from dataclasses import dataclass

from domain.identity.value_objects import EmailAddress
from domain.shared.errors import InvalidValueError
from entrypoints.settings.fields import Binding, Section, setting
from entrypoints.settings.parsers import boolean

__all__ = ("EmbeddedSettings",)


def _email(raw: str) -> str:
    try:
        return EmailAddress(raw).value
    except InvalidValueError as exc:
        raise ValueError(exc.message) from None


def _display_name(raw: str) -> str:
    if len(raw) > 200 or any(ord(ch) < 32 for ch in raw):
        raise ValueError("expected at most 200 printable characters")
    return raw


@dataclass(frozen=True, slots=True, kw_only=True)
class EmbeddedSettings(Section):
    """The local user every request acts as, unless an API key is required."""

    require_api_key: bool = setting(
        "MAESTRIST_REQUIRE_API_KEY",
        "Embedded only: refuse requests without an API key instead of acting as the local "
        "user (`maestrist api-key create` makes the first one).",
        boolean,
        default=False,
    )
    local_user_email: str = setting(
        "MAESTRIST_LOCAL_USER_EMAIL",
        "Embedded only: email of the single local user created on first start.",
        _email,
        default="local@localhost",
    )
    local_user_name: str = setting(
        "MAESTRIST_LOCAL_USER_NAME",
        "Embedded only: display name of the single local user.",
        _display_name,
        default="Local user",
    )

    def problems(self, binding: Binding) -> dict[str, str]:
        if binding is Binding.CLUSTERED and self.require_api_key:
            return {
                "MAESTRIST_REQUIRE_API_KEY": "only the embedded binding uses it; the clustered "
                "one always needs credentials"
            }
        return {}
