"""The MCP servers the agent may use: typed values and their limits. How a client or a
runtime writes them down is for the edges to say."""

import re
from dataclasses import dataclass
from typing import ClassVar

from domain.settings.errors import InvalidSettingError
from domain.settings.value_objects import check_http_url

__all__ = ("MASK", "McpConfig", "McpRemoteServer", "McpStdioServer")

MASK = "********"
"""What stands for a secret the owner may not see again; given back in its place, it keeps
the secret stored there."""

_FIELD = "mcp_config"
_MAX_TEXT = 4096
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
_SERVER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-]{0,63}")


def _refused(path: str, reason: str) -> InvalidSettingError:
    return InvalidSettingError(reason, field=_FIELD, path=path)


def _check_text(value: object, path: str, *, max_length: int = _MAX_TEXT) -> None:
    if not isinstance(value, str) or not 1 <= len(value) <= max_length or "\x00" in value:
        raise _refused(path, f"expected a string of 1 to {max_length} characters")


def _check_count(items: tuple[object, ...], path: str, most: int, what: str) -> None:
    if len(items) > most:
        raise _refused(path, f"at most {most} {what}")


@dataclass(frozen=True, slots=True, kw_only=True)
class McpRemoteServer:
    """An MCP server reached over SSE or streamable HTTP; its ``api_key`` is a secret.
    Checked by the configuration that holds it."""

    url: str
    api_key: str | None = None
    timeout: int | None = None
    """Whole seconds, 1 to 3600; streamable HTTP servers only."""

    def check(self, path: str, *, with_timeout: bool) -> None:
        _check_text(self.url, f"{path}.url", max_length=2048)
        try:
            check_http_url(self.url, _FIELD, "The server URL")
        except InvalidSettingError:
            raise _refused(f"{path}.url", "expected an http or https URL") from None
        if self.api_key is not None:
            _check_text(self.api_key, f"{path}.api_key")
        if self.timeout is None:
            return
        if not with_timeout:
            raise _refused(f"{path}.timeout", "an SSE server takes no timeout")
        if isinstance(self.timeout, bool) or not 1 <= self.timeout <= 3600:
            raise _refused(f"{path}.timeout", "expected whole seconds from 1 to 3600")

    def masked(self) -> "McpRemoteServer":
        key = None if self.api_key is None else MASK
        return McpRemoteServer(url=self.url, api_key=key, timeout=self.timeout)


@dataclass(frozen=True, slots=True, kw_only=True)
class McpStdioServer:
    """An MCP server the runtime starts as a process and talks to over standard I/O; the
    values of its environment are secrets. ``env`` is kept sorted by name."""

    name: str
    command: str
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()

    MAX_ARGS: ClassVar[int] = 64
    MAX_ENV: ClassVar[int] = 64

    def __post_init__(self) -> None:
        object.__setattr__(self, "env", tuple(sorted(self.env)))

    def check(self, path: str) -> None:
        _check_text(self.name, f"{path}.name", max_length=64)
        if not _SERVER_NAME.fullmatch(self.name):
            raise _refused(f"{path}.name", "letters, digits, . _ - (up to 64)")
        _check_text(self.command, f"{path}.command")
        _check_count(self.args, f"{path}.args", self.MAX_ARGS, "entries")
        for i, arg in enumerate(self.args):
            _check_text(arg, f"{path}.args[{i}]")
        _check_count(self.env, f"{path}.env", self.MAX_ENV, "variables")
        for key, value in self.env:
            if not _ENV_NAME.fullmatch(key):
                raise _refused(f"{path}.env", f"{key!r} is not an environment variable name")
            if len(value) > _MAX_TEXT or "\x00" in value:
                raise _refused(f"{path}.env.{key}", "expected a string")

    def masked(self) -> "McpStdioServer":
        return McpStdioServer(
            name=self.name,
            command=self.command,
            args=self.args,
            env=tuple((key, MASK) for key, _ in self.env),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class McpConfig:
    """The MCP servers the agent may use: up to 32 of each kind, stdio servers uniquely named.

    API keys and environment values are secrets: ``masked()`` hides them, and
    ``keeping_masked_from`` puts the stored ones back where a client gave ``MASK``.
    """

    sse_servers: tuple[McpRemoteServer, ...] = ()
    stdio_servers: tuple[McpStdioServer, ...] = ()
    shttp_servers: tuple[McpRemoteServer, ...] = ()

    MAX_SERVERS: ClassVar[int] = 32

    def __post_init__(self) -> None:
        _check_count(self.sse_servers, "sse_servers", self.MAX_SERVERS, "entries")
        for i, remote in enumerate(self.sse_servers):
            remote.check(f"sse_servers[{i}]", with_timeout=False)
        _check_count(self.shttp_servers, "shttp_servers", self.MAX_SERVERS, "entries")
        for i, remote in enumerate(self.shttp_servers):
            remote.check(f"shttp_servers[{i}]", with_timeout=True)
        _check_count(self.stdio_servers, "stdio_servers", self.MAX_SERVERS, "entries")
        for i, stdio in enumerate(self.stdio_servers):
            stdio.check(f"stdio_servers[{i}]")
        names = [server.name for server in self.stdio_servers]
        if len(set(names)) != len(names):
            raise _refused("stdio_servers", "server names must be unique")

    def masked(self) -> "McpConfig":
        """This configuration as its owner may see it: every secret replaced by ``MASK``."""
        return McpConfig(
            sse_servers=tuple(server.masked() for server in self.sse_servers),
            stdio_servers=tuple(server.masked() for server in self.stdio_servers),
            shttp_servers=tuple(server.masked() for server in self.shttp_servers),
        )

    def keeping_masked_from(self, stored: "McpConfig | None") -> "McpConfig":
        """This configuration with every masked secret replaced by the stored one of the same
        server (remote servers by URL, stdio servers by name and variable)."""
        before = stored or McpConfig()
        envs = {server.name: dict(server.env) for server in before.stdio_servers}
        stdio = []
        for i, server in enumerate(self.stdio_servers):
            env = []
            for key, value in server.env:
                kept = envs.get(server.name, {}).get(key, "") if value == MASK else value
                if value == MASK and not kept:
                    raise _refused(f"stdio_servers[{i}].env.{key}", "masked, but nothing is stored")
                env.append((key, kept))
            stdio.append(
                McpStdioServer(
                    name=server.name, command=server.command, args=server.args, env=tuple(env)
                )
            )
        return McpConfig(
            sse_servers=_keeping_keys(self.sse_servers, before.sse_servers, "sse_servers"),
            stdio_servers=tuple(stdio),
            shttp_servers=_keeping_keys(self.shttp_servers, before.shttp_servers, "shttp_servers"),
        )

    def __repr__(self) -> str:
        return (
            f"McpConfig(sse={len(self.sse_servers)}, stdio={len(self.stdio_servers)}, "
            f"shttp={len(self.shttp_servers)})"
        )


def _keeping_keys(
    servers: tuple[McpRemoteServer, ...], before: tuple[McpRemoteServer, ...], kind: str
) -> tuple[McpRemoteServer, ...]:
    keys = {server.url: server.api_key for server in before}
    kept = []
    for i, server in enumerate(servers):
        if server.api_key != MASK:
            kept.append(server)
            continue
        stored = keys.get(server.url)
        if stored is None:
            raise _refused(f"{kind}[{i}].api_key", "masked, but no key is stored for this url")
        kept.append(McpRemoteServer(url=server.url, api_key=stored, timeout=server.timeout))
    return tuple(kept)
