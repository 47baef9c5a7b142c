import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urlsplit

from domain.identity.errors import InvalidEmailError
from domain.identity.value_objects import EmailAddress
from domain.settings.errors import InvalidSettingError

__all__ = (
    "MASK",
    "AgentName",
    "Budget",
    "GitAuthorEmail",
    "GitAuthorName",
    "Language",
    "LlmApiKey",
    "LlmBaseUrl",
    "LlmModel",
    "MaxIterations",
    "McpConfig",
    "McpRemoteServer",
    "McpStdioServer",
)

MASK = "********"
"""What responses show in place of a secret part of the MCP configuration."""


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
    FIELD: ClassVar[str] = "llmModel"
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
    FIELD: ClassVar[str] = "llmApiKey"
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


def _check_http_url(value: str, field: str, what: str) -> None:
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
    FIELD: ClassVar[str] = "llmBaseUrl"

    def __post_init__(self) -> None:
        _check_http_url(self.value, self.FIELD, "The LLM base URL")


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
    FIELD: ClassVar[str] = "maxIterations"
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
    FIELD: ClassVar[str] = "maxBudgetPerTask"
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
    FIELD: ClassVar[str] = "gitAuthorName"

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
    FIELD: ClassVar[str] = "gitAuthorEmail"

    def __post_init__(self) -> None:
        try:
            address = EmailAddress(self.value)
        except InvalidEmailError as exc:
            raise InvalidSettingError(exc.message, field=self.FIELD) from None
        if "<" in address.value or ">" in address.value:
            raise InvalidSettingError("A git author email has no < or >.", field=self.FIELD)
        object.__setattr__(self, "value", address.value)


# ---- MCP servers ------------------------------------------------------------------------------

_MCP_FIELD = "mcpConfig"
_MCP_KINDS = ("sse_servers", "stdio_servers", "shttp_servers")
_MAX_SERVERS = 32
_MAX_ARGS = 64
_MAX_ENV = 64
_MAX_TEXT = 4096
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
_SERVER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-]{0,63}")


def _mcp_error(path: str, message: str) -> InvalidSettingError:
    return InvalidSettingError(f"mcpConfig.{path}: {message}", field=_MCP_FIELD)


def _text(raw: object, path: str, *, max_length: int = _MAX_TEXT) -> str:
    if not isinstance(raw, str) or not 1 <= len(raw) <= max_length or "\x00" in raw:
        raise _mcp_error(path, f"expected a string of 1 to {max_length} characters")
    return raw


def _object(raw: object, path: str, allowed: frozenset[str]) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise _mcp_error(path, "expected an object")
    unknown = sorted(str(key) for key in raw if key not in allowed)
    if unknown:
        raise _mcp_error(path, f"unknown key {unknown[0]!r}; allowed: {', '.join(sorted(allowed))}")
    return raw


def _list(raw: object, path: str, max_items: int) -> list[Any]:
    if not isinstance(raw, list):
        raise _mcp_error(path, "expected a list")
    if len(raw) > max_items:
        raise _mcp_error(path, f"at most {max_items} entries")
    return raw


@dataclass(frozen=True, slots=True, kw_only=True)
class McpRemoteServer:
    """An MCP server reached over SSE or streamable HTTP."""

    url: str
    api_key: str | None = None
    timeout: int | None = None

    @classmethod
    def parse(cls, raw: object, path: str, *, with_timeout: bool) -> "McpRemoteServer":
        if isinstance(raw, str):
            raw = {"url": raw}
        keys = {"url", "api_key", "timeout"} if with_timeout else {"url", "api_key"}
        body = _object(raw, path, frozenset(keys))
        if "url" not in body:
            raise _mcp_error(path, "a server needs a url")
        url = _text(body["url"], f"{path}.url", max_length=2048)
        try:
            _check_http_url(url, _MCP_FIELD, "The server URL")
        except InvalidSettingError:
            raise _mcp_error(f"{path}.url", "expected an http or https URL") from None
        api_key = body.get("api_key")
        if api_key is not None:
            api_key = _text(api_key, f"{path}.api_key")
        timeout = body.get("timeout")
        if timeout is not None and (
            isinstance(timeout, bool) or not isinstance(timeout, int) or not 1 <= timeout <= 3600
        ):
            raise _mcp_error(f"{path}.timeout", "expected whole seconds from 1 to 3600")
        return cls(url=url, api_key=api_key, timeout=timeout)

    def to_document(self, *, masked: bool) -> dict[str, Any]:
        document: dict[str, Any] = {"url": self.url}
        if self.api_key is not None:
            document["api_key"] = MASK if masked else self.api_key
        if self.timeout is not None:
            document["timeout"] = self.timeout
        return document


@dataclass(frozen=True, slots=True, kw_only=True)
class McpStdioServer:
    """An MCP server the runtime starts as a process and talks to over standard I/O."""

    name: str
    command: str
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, raw: object, path: str) -> "McpStdioServer":
        body = _object(raw, path, frozenset({"name", "command", "args", "env"}))
        for required in ("name", "command"):
            if required not in body:
                raise _mcp_error(path, f"a stdio server needs a {required}")
        name = _text(body["name"], f"{path}.name", max_length=64)
        if not _SERVER_NAME.fullmatch(name):
            raise _mcp_error(f"{path}.name", "letters, digits, . _ - (up to 64)")
        command = _text(body["command"], f"{path}.command")
        args = tuple(
            _text(arg, f"{path}.args[{i}]")
            for i, arg in enumerate(_list(body.get("args", []), f"{path}.args", _MAX_ARGS))
        )
        env_raw = body.get("env", {})
        if not isinstance(env_raw, dict):
            raise _mcp_error(f"{path}.env", "expected an object of names to strings")
        if len(env_raw) > _MAX_ENV:
            raise _mcp_error(f"{path}.env", f"at most {_MAX_ENV} variables")
        env = []
        for key, value in env_raw.items():
            if not isinstance(key, str) or not _ENV_NAME.fullmatch(key):
                raise _mcp_error(f"{path}.env", f"{key!r} is not an environment variable name")
            if not isinstance(value, str) or len(value) > _MAX_TEXT or "\x00" in value:
                raise _mcp_error(f"{path}.env.{key}", "expected a string")
            env.append((key, value))
        return cls(name=name, command=command, args=args, env=tuple(sorted(env)))

    def to_document(self, *, masked: bool) -> dict[str, Any]:
        return {
            "name": self.name,
            "command": self.command,
            "args": list(self.args),
            "env": {key: MASK if masked else value for key, value in self.env},
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class McpConfig:
    """The MCP servers the agent may use, in OpenHands' shape:
    ``{"sse_servers": [...], "stdio_servers": [...], "shttp_servers": [...]}``.

    API keys and environment values are secrets: ``to_document(masked=True)`` hides them and
    ``keeping_masked_from`` puts the stored ones back where a client sent the mask.
    """

    sse_servers: tuple[McpRemoteServer, ...] = ()
    stdio_servers: tuple[McpStdioServer, ...] = ()
    shttp_servers: tuple[McpRemoteServer, ...] = ()

    @classmethod
    def parse(cls, raw: object) -> "McpConfig":
        if not isinstance(raw, dict):
            raise InvalidSettingError(
                "The MCP configuration is an object with sse_servers, stdio_servers and "
                "shttp_servers lists.",
                field=_MCP_FIELD,
            )
        body = _object(raw, "", frozenset(_MCP_KINDS))
        sse = tuple(
            McpRemoteServer.parse(item, f"sse_servers[{i}]", with_timeout=False)
            for i, item in enumerate(
                _list(body.get("sse_servers", []), "sse_servers", _MAX_SERVERS)
            )
        )
        shttp = tuple(
            McpRemoteServer.parse(item, f"shttp_servers[{i}]", with_timeout=True)
            for i, item in enumerate(
                _list(body.get("shttp_servers", []), "shttp_servers", _MAX_SERVERS)
            )
        )
        stdio = tuple(
            McpStdioServer.parse(item, f"stdio_servers[{i}]")
            for i, item in enumerate(
                _list(body.get("stdio_servers", []), "stdio_servers", _MAX_SERVERS)
            )
        )
        names = [server.name for server in stdio]
        if len(set(names)) != len(names):
            raise _mcp_error("stdio_servers", "server names must be unique")
        return cls(sse_servers=sse, stdio_servers=stdio, shttp_servers=shttp)

    def to_document(self, *, masked: bool = False) -> dict[str, Any]:
        return {
            "sse_servers": [s.to_document(masked=masked) for s in self.sse_servers],
            "stdio_servers": [s.to_document(masked=masked) for s in self.stdio_servers],
            "shttp_servers": [s.to_document(masked=masked) for s in self.shttp_servers],
        }

    @property
    def has_secrets(self) -> bool:
        remote = (*self.sse_servers, *self.shttp_servers)
        return any(s.api_key for s in remote) or any(s.env for s in self.stdio_servers)

    def keeping_masked_from(self, stored: "McpConfig | None") -> "McpConfig":
        """This configuration with every masked secret replaced by the stored one of the same
        server (remote servers by URL, stdio servers by name and variable)."""

        def remote(
            servers: tuple[McpRemoteServer, ...], before: tuple[McpRemoteServer, ...], kind: str
        ) -> tuple[McpRemoteServer, ...]:
            keys = {s.url: s.api_key for s in before}
            kept = []
            for i, server in enumerate(servers):
                if server.api_key != MASK:
                    kept.append(server)
                    continue
                if keys.get(server.url) is None:
                    raise _mcp_error(
                        f"{kind}[{i}].api_key", "masked, but no key is stored for this url"
                    )
                kept.append(
                    McpRemoteServer(
                        url=server.url, api_key=keys[server.url], timeout=server.timeout
                    )
                )
            return tuple(kept)

        before = stored or McpConfig()
        envs = {s.name: dict(s.env) for s in before.stdio_servers}
        stdio = []
        for i, server in enumerate(self.stdio_servers):
            env = []
            for key, value in server.env:
                kept_value = envs.get(server.name, {}).get(key, "") if value == MASK else value
                if value == MASK and not kept_value:
                    raise _mcp_error(
                        f"stdio_servers[{i}].env.{key}", "masked, but nothing is stored"
                    )
                env.append((key, kept_value))
            stdio.append(
                McpStdioServer(
                    name=server.name, command=server.command, args=server.args, env=tuple(env)
                )
            )
        return McpConfig(
            sse_servers=remote(self.sse_servers, before.sse_servers, "sse_servers"),
            stdio_servers=tuple(stdio),
            shttp_servers=remote(self.shttp_servers, before.shttp_servers, "shttp_servers"),
        )

    def __repr__(self) -> str:
        return (
            f"McpConfig(sse={len(self.sse_servers)}, stdio={len(self.stdio_servers)}, "
            f"shttp={len(self.shttp_servers)})"
        )
