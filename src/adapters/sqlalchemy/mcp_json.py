"""How an ``McpConfig`` is stored: the JSON text the settings tables have always sealed,
``{"sse_servers": [{"url", "api_key"?}], "stdio_servers": [{"name", "command", "args",
"env"}], "shttp_servers": [{"url", "api_key"?, "timeout"?}]}``, secrets in the clear (the
cipher seals the whole text)."""

import json
from typing import Any

from domain.settings.mcp import McpConfig, McpRemoteServer, McpStdioServer

__all__ = ("mcp_config_from_json", "mcp_config_to_json")


def _remote_document(server: McpRemoteServer) -> dict[str, Any]:
    document: dict[str, Any] = {"url": server.url}
    if server.api_key is not None:
        document["api_key"] = server.api_key
    if server.timeout is not None:
        document["timeout"] = server.timeout
    return document


def _remote(document: dict[str, Any] | str) -> McpRemoteServer:
    if isinstance(document, str):
        return McpRemoteServer(url=document)
    return McpRemoteServer(
        url=document["url"], api_key=document.get("api_key"), timeout=document.get("timeout")
    )


def mcp_config_to_json(config: McpConfig) -> str:
    return json.dumps(
        {
            "sse_servers": [_remote_document(s) for s in config.sse_servers],
            "stdio_servers": [
                {"name": s.name, "command": s.command, "args": list(s.args), "env": dict(s.env)}
                for s in config.stdio_servers
            ],
            "shttp_servers": [_remote_document(s) for s in config.shttp_servers],
        }
    )


def mcp_config_from_json(text: str) -> McpConfig:
    document = json.loads(text)
    return McpConfig(
        sse_servers=tuple(_remote(s) for s in document.get("sse_servers", [])),
        stdio_servers=tuple(
            McpStdioServer(
                name=s["name"],
                command=s["command"],
                args=tuple(s.get("args", [])),
                env=tuple(s.get("env", {}).items()),
            )
            for s in document.get("stdio_servers", [])
        ),
        shttp_servers=tuple(_remote(s) for s in document.get("shttp_servers", [])),
    )
