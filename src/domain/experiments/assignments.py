"""Experiments conversations take part in, and the variant each conversation was given."""

import re
from dataclasses import dataclass
from datetime import datetime

from domain.conversations.value_objects import ConversationId
from domain.shared.errors import InvalidValueError

__all__ = ("KEY_MAX_LENGTH", "Experiment", "ExperimentAssignment", "check_key")

KEY_MAX_LENGTH = 100
_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def check_key(value: str, what: str) -> str:
    """``value`` when it is a flag or variant key: 1 to 100 letters, digits, ``_.-``, starting
    with a letter or digit."""
    if len(value) > KEY_MAX_LENGTH or _KEY.fullmatch(value) is None:
        raise InvalidValueError(
            f"{what} is 1 to {KEY_MAX_LENGTH} letters, digits, '_', '.' or '-', "
            f"starting with a letter or digit: {value[:40]!r}."
        )
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class Experiment:
    """An experiment: the feature flag named ``name`` chooses each user's variant; a user the
    flag gives none (flags unavailable, the flag unknown or off) gets ``default``."""

    name: str
    default: str

    def __post_init__(self) -> None:
        check_key(self.name, "An experiment's name")
        check_key(self.default, "A variant")


@dataclass(frozen=True, slots=True, kw_only=True)
class ExperimentAssignment:
    """The variant of one experiment a conversation runs with, from its start on: once kept,
    it never changes, whatever the flag says later."""

    conversation_id: ConversationId
    experiment: str
    variant: str
    assigned_at: datetime

    def __post_init__(self) -> None:
        check_key(self.experiment, "An experiment's name")
        check_key(self.variant, "A variant")
