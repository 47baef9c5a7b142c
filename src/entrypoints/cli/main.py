import argparse
import base64
import secrets
import sys
import time
from collections.abc import Sequence

from domain.identity.scopes import Scope
from entrypoints.cli.serve import serve
from entrypoints.ioc import (
    agent_server_status,
    create_local_api_key,
    migrate,
    rotate_encryption_keys,
    stop_agent_server,
)
from entrypoints.logging_ import configure_logging
from entrypoints.settings import LogFormat, Settings, SettingsError

__all__ = ("main",)


def _settings_table() -> None:
    print("| Variable | Default | Meaning |")
    print("| --- | --- | --- |")
    for name, default, doc in Settings.reference():
        shown = f"`{default}`" if default and "`" not in default else default
        print(f"| `{name}` | {shown} | {doc} |")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="maestrist", description="Maestrist Enterprise Server")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="run the HTTP server with the production ASGI server")
    commands.add_parser("migrate", help="apply pending database migrations")
    commands.add_parser("check-config", help="validate the environment and exit")
    commands.add_parser("settings-table", help="print the settings reference as Markdown")
    commands.add_parser(
        "new-key", help="print a fresh key for MAESTRIST_ENCRYPTION_KEYS or MAESTRIST_SIGNING_KEYS"
    )
    commands.add_parser(
        "rotate-keys", help="reseal every stored secret with the first encryption key"
    )
    agent_server = commands.add_parser(
        "agent-server", help="the local OpenHands agent-server, which outlives `serve`"
    )
    agent_server.add_argument("action", choices=["status", "stop"])
    api_key = commands.add_parser(
        "api-key", help="embedded: make an API key for the local user and print it once"
    )
    api_key.add_argument("--name", default="local")
    api_key.add_argument(
        "--scope", action="append", default=[], choices=[s.value for s in Scope], dest="scopes"
    )
    args = parser.parse_args(argv)
    if args.command == "settings-table":
        _settings_table()
        return 0
    if args.command == "new-key":
        key = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
        print(f"k{time.strftime('%Y%m%d')}:{key}")
        return 0
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    configure_logging(level=settings.log_level, json=settings.log_format is LogFormat.JSON)
    if args.command == "migrate":
        migrate(settings)
    elif args.command == "rotate-keys":
        try:
            print(f"resealed {rotate_encryption_keys(settings)} records")
        except SettingsError as exc:
            print(exc, file=sys.stderr)
            return 2
    elif args.command == "api-key":
        try:
            print(create_local_api_key(settings, args.name, frozenset(map(Scope, args.scopes))))
        except SettingsError as exc:
            print(exc, file=sys.stderr)
            return 2
    elif args.command == "agent-server":
        if args.action == "stop":
            stop_agent_server(settings)
            print("stopped")
        else:
            print(agent_server_status(settings))
    elif args.command == "serve":
        serve(settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
