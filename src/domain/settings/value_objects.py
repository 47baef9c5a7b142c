import math
import re
import unicodedata
from dataclasses import dataclass
from typing import ClassVar
from urllib.parse import urlsplit

from domain.identity.errors import InvalidEmailError
from domain.identity.value_objects import EmailAddress
from domain.settings.errors import InvalidSettingError

__all__ = (
    "AgentName",
    "Budget",
    "GitAuthorEmail",
    "GitAuthorName",
    "Language",
    "LlmApiKey",
    "LlmBaseUrl",
    "LlmModel",
    "MaxIterations",
    "check_http_url",
)


def _has_control(text: str) -> bool:
    return any(unicodedata.category(ch).startswith("C") for ch in text)


def _number(raw: object) -> float | None:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return None
    return float(raw)


@dataclass(frozen=True, slots=True)
class LlmModel:
    """A model name as LiteLLM routes it (``anthropic/claude-sonnet-4``): 1 to 200 printable
    characters without spaces."""

    value: str
    FIELD: ClassVar[str] = "llm_model"
    PATTERN: ClassVar[re.Pattern[str]] = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/@+\-]{0,199}")

    def __post_init__(self) -> None:
        if not self.PATTERN.fullmatch(self.value):
            raise InvalidSettingError(
                "A model name has 1 to 200 letters, digits and . _ : / @ + -, no spaces.",
                field=self.FIELD,
            )


@dataclass(frozen=True, slots=True)
class LlmApiKey:
    """A key for the LLM provider: 1 to 4096 characters, no spaces or control characters.
    Never shown back; its ``repr`` hides it."""

    value: str
    FIELD: ClassVar[str] = "llm_api_key"
    MAX_LENGTH: ClassVar[int] = 4096

    def __post_init__(self) -> None:
        if not 1 <= len(self.value) <= self.MAX_LENGTH:
            raise InvalidSettingError(
                f"An API key has 1 to {self.MAX_LENGTH} characters.", field=self.FIELD
            )
        if any(ch.isspace() for ch in self.value) or _has_control(self.value):
            raise InvalidSettingError(
                "An API key has no spaces or control characters.", field=self.FIELD
            )

    def __repr__(self) -> str:
        return "LlmApiKey(...)"


def check_http_url(value: str, field: str, what: str) -> None:
    """Refuse ``value`` unless it is an http(s) URL with a host, no credentials, no fragment."""
    if not 1 <= len(value) <= 2048 or _has_control(value) or any(c.isspace() for c in value):
        raise InvalidSettingError(
            f"{what} is an http or https URL of at most 2048 characters.", field=field
        )
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise InvalidSettingError(f"{what} is not a valid URL.", field=field) from None
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise InvalidSettingError(f"{what} is an http or https URL with a host.", field=field)
    if parts.username is not None or parts.password is not None:
        raise InvalidSettingError(
            f"{what} carries no user name or password; use the API key for credentials.",
            field=field,
        )
    if parts.fragment or port == 0:
        raise InvalidSettingError(f"{what} has no fragment and a valid port.", field=field)


@dataclass(frozen=True, slots=True)
class LlmBaseUrl:
    """Where the LLM API answers: an http(s) URL with a host, without credentials or fragment."""

    value: str
    FIELD: ClassVar[str] = "llm_base_url"

    def __post_init__(self) -> None:
        check_http_url(self.value, self.FIELD, "The LLM base URL")


@dataclass(frozen=True, slots=True)
class AgentName:
    """The agent class the runtime runs (``CodeActAgent``): a letter, then up to 63 letters,
    digits or underscores."""

    value: str
    FIELD: ClassVar[str] = "agent"
    PATTERN: ClassVar[re.Pattern[str]] = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")

    def __post_init__(self) -> None:
        if not self.PATTERN.fullmatch(self.value):
            raise InvalidSettingError(
                "An agent name is a letter followed by up to 63 letters, digits or underscores.",
                field=self.FIELD,
            )


@dataclass(frozen=True, slots=True)
class MaxIterations:
    """How many steps an agent may take in one task: 1 to 10000."""

    value: int
    FIELD: ClassVar[str] = "max_iterations"
    MAX: ClassVar[int] = 10_000

    def __post_init__(self) -> None:
        if isinstance(self.value, bool) or not isinstance(self.value, int):
            raise InvalidSettingError("Max iterations is a whole number.", field=self.FIELD)
        if not 1 <= self.value <= self.MAX:
            raise InvalidSettingError(
                f"Max iterations is between 1 and {self.MAX}.", field=self.FIELD
            )


@dataclass(frozen=True, slots=True)
class Budget:
    """The most one task may spend, in US dollars: 0 to 100000, finite."""

    value: float
    FIELD: ClassVar[str] = "max_budget_per_task"
    MAX: ClassVar[float] = 100_000.0

    def __post_init__(self) -> None:
        number = _number(self.value)
        if number is None or not math.isfinite(number) or not 0 <= number <= self.MAX:
            raise InvalidSettingError(
                f"The budget per task is a number from 0 to {self.MAX:g}.", field=self.FIELD
            )
        object.__setattr__(self, "value", number)


@dataclass(frozen=True, slots=True)
class Language:
    """The interface and agent language: a BCP 47 tag such as ``en``, ``pt-BR`` or
    ``zh-Hant-TW``, stored in its conventional case."""

    value: str
    FIELD: ClassVar[str] = "language"
    PATTERN: ClassVar[re.Pattern[str]] = re.compile(
        r"[A-Za-z]{2,3}(?:-[A-Za-z]{4})?(?:-(?:[A-Za-z]{2}|[0-9]{3}))?(?:-[A-Za-z0-9]{5,8})*"
    )
    KNOWN: ClassVar[frozenset[str]] = frozenset(
        {"en", "ja", "zh-CN", "zh-TW", "ko-KR", "no", "it", "pt", "es", "ar", "fr", "tr", "de"}
        | {"uk", "ru", "pl", "nl", "sv", "fi", "da", "cs", "hu", "he", "hi", "id", "vi", "th"}
    )
    """What the web interface translates; other well-formed tags are kept all the same."""

    def __post_init__(self) -> None:
        if len(self.value) > 35 or not self.PATTERN.fullmatch(self.value):
            raise InvalidSettingError(
                "A language is a BCP 47 tag such as en, pt-BR or zh-Hant-TW.", field=self.FIELD
            )
        parts = self.value.split("-")
        canonical = [parts[0].lower()]
        for part in parts[1:]:
            if len(part) == 4 and part.isalpha():
                canonical.append(part.title())
            elif len(part) == 2:
                canonical.append(part.upper())
            else:
                canonical.append(part.lower())
        object.__setattr__(self, "value", "-".join(canonical))

    @property
    def is_known(self) -> bool:
        return self.value in self.KNOWN


@dataclass(frozen=True, slots=True)
class GitAuthorName:
    """The name on the agent's commits: 1 to 100 visible characters, no ``<`` or ``>``."""

    value: str
    FIELD: ClassVar[str] = "git_author_name"

    def __post_init__(self) -> None:
        cleaned = " ".join(self.value.split())
        if not 1 <= len(cleaned) <= 100 or _has_control(cleaned):
            raise InvalidSettingError(
                "A git author name has 1 to 100 visible characters.", field=self.FIELD
            )
        if "<" in cleaned or ">" in cleaned:
            raise InvalidSettingError("A git author name has no < or >.", field=self.FIELD)
        object.__setattr__(self, "value", cleaned)


@dataclass(frozen=True, slots=True)
class GitAuthorEmail:
    """The email on the agent's commits."""

    value: str
    FIELD: ClassVar[str] = "git_author_email"

    def __post_init__(self) -> None:
        try:
            address = EmailAddress(self.value)
        except InvalidEmailError as exc:
            raise InvalidSettingError(exc.message, field=self.FIELD) from None
        if "<" in address.value or ">" in address.value:
            raise InvalidSettingError("A git author email has no < or >.", field=self.FIELD)
        object.__setattr__(self, "value", address.value)
