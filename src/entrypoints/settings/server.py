"""The HTTP server: where it listens, how many connections it serves, who may call it from a
browser or through a proxy, and how it logs."""

import ipaddress
import re
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from entrypoints.settings.fields import Binding, Section, setting
from entrypoints.settings.parsers import boolean, choice, host_name, int_in, seconds

__all__ = ("LogFormat", "ServerSettings")

_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
_ORIGIN = re.compile(r"https?://[^/\s:]+(:\d{1,5})?")


class LogFormat(StrEnum):
    JSON = "json"
    CONSOLE = "console"


def _log_level(raw: str) -> str:
    if raw.upper() not in _LOG_LEVELS:
        raise ValueError(f"expected one of {', '.join(_LOG_LEVELS)}, got {raw!r}")
    return raw.upper()


def _origins(raw: str) -> tuple[str, ...]:
    origins = tuple(part.strip().rstrip("/") for part in raw.split(",") if part.strip())
    bad = [origin for origin in origins if origin != "*" and not _ORIGIN.fullmatch(origin)]
    if bad:
        raise ValueError(f"expected origins like https://app.example.com, got {', '.join(bad)}")
    return origins


def _public_url(raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.path not in {"", "/"}:
        raise ValueError("expected an origin like https://maestrist.example.com, with no path")
    return raw.rstrip("/")


def _networks(raw: str) -> tuple[str, ...]:
    networks: list[str] = []
    for part in (p.strip() for p in raw.split(",") if p.strip()):
        try:
            networks.append(str(ipaddress.ip_network(part, strict=False)))
        except ValueError:
            raise ValueError(f"{part[:60]} is not an IP address or network") from None
    if not networks:
        raise ValueError("list addresses or networks, separated by commas")
    return tuple(networks)


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerSettings(Section):
    """The HTTP server and its logs."""

    host: str = setting(
        "MAESTRIST_HOST", "Interface the server listens on.", host_name, default="127.0.0.1"
    )
    port: int = setting(
        "MAESTRIST_PORT",
        "TCP port the server listens on (1-65535).",
        int_in(1, 65535),
        default=8000,
    )
    workers: int = setting(
        "MAESTRIST_WORKERS",
        "Server worker processes. The embedded binding allows only 1.",
        int_in(1, 64),
        default=1,
    )
    worker_number: int = setting(
        "MAESTRIST_WORKER_NUMBER",
        "Set by `maestrist serve` in each worker it starts (1 to `MAESTRIST_WORKERS`), never by "
        "hand: it names the worker in its claims on conversations.",
        int_in(1, 64),
        default=1,
    )
    max_connections: int = setting(
        "MAESTRIST_MAX_CONNECTIONS",
        "Connections one worker serves at once (1-100000), idle keep-alive ones and "
        "websockets included; more wait in the listen queue until one closes.",
        int_in(1, 100_000),
        default=4096,
    )
    backlog: int = setting(
        "MAESTRIST_BACKLOG",
        "Connections the kernel queues while every worker is at its limit (128-65535; the "
        "kernel's `net.core.somaxconn` caps it).",
        int_in(128, 65535),
        default=1024,
    )
    keep_alive_timeout_s: float = setting(
        "MAESTRIST_KEEP_ALIVE_TIMEOUT",
        "Seconds an HTTP/1.1 connection may stay idle between requests (and a client may "
        "take to send a request's headers) before the server closes it. Behind a proxy that "
        "keeps connections open, set it above the proxy's idle timeout.",
        seconds,
        default=5.0,
    )
    log_level: str = setting(
        "MAESTRIST_LOG_LEVEL",
        "`DEBUG`, `INFO`, `WARNING` or `ERROR`.",
        _log_level,
        default="INFO",
    )
    log_format: LogFormat | None = setting(
        "MAESTRIST_LOG_FORMAT",
        "`json` (one object a line, for collectors) or `console` (for people). Logs go to "
        "stderr; standard output carries only what a command prints as its result.",
        choice(LogFormat),
        shown="`console` when stderr is a terminal, else `json`",
        default=None,
    )
    access_log: bool = setting(
        "MAESTRIST_ACCESS_LOG",
        "Log one line per request with method, path, status, duration and request id.",
        boolean,
        default=True,
    )
    cors_origins: tuple[str, ...] = setting(
        "MAESTRIST_CORS_ORIGINS",
        "Comma-separated origins allowed to call the API from a browser "
        "(`https://app.example.com`); empty disables CORS.",
        _origins,
        default=(),
    )
    shutdown_timeout_s: float = setting(
        "MAESTRIST_SHUTDOWN_TIMEOUT",
        "Seconds in-flight requests get to finish after SIGTERM before workers are stopped.",
        seconds,
        default=30.0,
    )
    public_url: str | None = setting(
        "MAESTRIST_PUBLIC_URL",
        "Origin browsers use to reach the server (`https://maestrist.example.com`); sign-in "
        "redirects and cookie security derive from it.",
        _public_url,
        shown="`http://<MAESTRIST_HOST>:<MAESTRIST_PORT>`",
        default=None,
    )
    trusted_proxies: tuple[str, ...] | None = setting(
        "MAESTRIST_TRUSTED_PROXIES",
        "Addresses or networks of the reverse proxies in front of the server "
        "(`10.0.0.0/8,192.0.2.1`): from them, `X-Forwarded-For` names the client. Unset, the "
        "client is the address that connected and `X-Forwarded-For` is ignored.",
        _networks,
        default=None,
    )

    @property
    def effective_public_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    def problems(self, binding: Binding) -> dict[str, str]:
        if binding is Binding.EMBEDDED and self.workers != 1:
            return {
                "MAESTRIST_WORKERS": "the embedded binding coordinates in-process, so it runs "
                "1 worker"
            }
        return {}
