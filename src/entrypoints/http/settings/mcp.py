"""The MCP configuration as clients write it, in OpenHands' shape:
``{"sse_servers": [...], "stdio_servers": [...], "shttp_servers": [...]}``, each SSE server
a URL or an object. Decoded into the domain's ``McpConfig``, and encoded with its secrets
masked."""

import re
from typing import Any

import msgspec

from domain.settings import InvalidSettingError, McpConfig, McpRemoteServer, McpStdioServer
from domain.settings.entities import SettingField

__all__ = ("decode_mcp_config", "encode_mcp_config")

_FIELD = SettingField.MCP_CONFIG.value
_AT = re.compile(r"(?P<reason>.*) - at `\$\.?(?P<path>[^`]*)`", re.DOTALL)


class _SseServer(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True
):
    url: str
    api_key: str | None = None


class _ShttpServer(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True
):
    url: str
    api_key: str | None = None
    timeout: int | None = None


class _StdioServer(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: str
    command: str
    args: list[str] = msgspec.field(default_factory=list)
    env: dict[str, str] = msgspec.field(default_factory=dict)


class _McpConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    sse_servers: list[str | _SseServer] = msgspec.field(default_factory=list)
    stdio_servers: list[_StdioServer] = msgspec.field(default_factory=list)
    shttp_servers: list[_ShttpServer] = msgspec.field(default_factory=list)


def _sse(server: str | _SseServer) -> McpRemoteServer:
    if isinstance(server, str):
        return McpRemoteServer(url=server)
    return McpRemoteServer(url=server.url, api_key=server.api_key)


def decode_mcp_config(raw: object) -> McpConfig:
    """The configuration a client sent; ``InvalidSettingError`` on ``mcp_config`` naming
    where in it the first problem is."""
    if not isinstance(raw, dict):
        raise InvalidSettingError(
            "The MCP configuration is an object with sse_servers, stdio_servers and "
            "shttp_servers lists.",
            field=_FIELD,
        )
    try:
        body = msgspec.convert(raw, _McpConfig)
    except msgspec.ValidationError as exc:
        found = _AT.fullmatch(str(exc))
        path, reason = (found["path"], found["reason"]) if found else ("", str(exc))
        raise InvalidSettingError(reason, field=_FIELD, path=path) from None
    return McpConfig(
        sse_servers=tuple(_sse(server) for server in body.sse_servers),
        stdio_servers=tuple(
            McpStdioServer(
                name=server.name,
                command=server.command,
                args=tuple(server.args),
                env=tuple(server.env.items()),
            )
            for server in body.stdio_servers
        ),
        shttp_servers=tuple(
            McpRemoteServer(url=server.url, api_key=server.api_key, timeout=server.timeout)
            for server in body.shttp_servers
        ),
    )


def encode_mcp_config(config: McpConfig) -> dict[str, Any]:
    """The configuration as its owner may see it, every secret masked."""
    shown = config.masked()
    body = _McpConfig(
        sse_servers=[_SseServer(url=s.url, api_key=s.api_key) for s in shown.sse_servers],
        stdio_servers=[
            _StdioServer(name=s.name, command=s.command, args=list(s.args), env=dict(s.env))
            for s in shown.stdio_servers
        ],
        shttp_servers=[
            _ShttpServer(url=s.url, api_key=s.api_key, timeout=s.timeout)
            for s in shown.shttp_servers
        ],
    )
    encoded: dict[str, Any] = msgspec.to_builtins(body)
    return encoded
