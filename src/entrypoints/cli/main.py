import argparse
import base64
import secrets
import sys
import time
from collections.abc import Sequence
from datetime import timedelta
from uuid import UUID

from application.api_keys.create_api_key import MAX_LIFETIME
from application.errors import DependencyUnavailableError
from domain.identity.api_keys import ApiKeyId
from domain.identity.scopes import Scope
from domain.jobs.entities import JobId, JobStatus
from domain.shared.errors import DomainError, InvalidValueError
from domain.webhooks.entities import WebhookDeliveryId
from entrypoints.cli.billing_args import add_billing_commands
from entrypoints.cli.serve import serve
from entrypoints.cli.summary import describe
from entrypoints.logging_ import configure_logging
from entrypoints.settings import Settings, SettingsError

__all__ = ("build_parser", "main")


_MAX_KEY_DAYS = MAX_LIFETIME.days


def _settings_table() -> None:
    print("| Variable | Default | Meaning |")
    print("| --- | --- | --- |")
    for name, default, doc in Settings.reference():
        shown = f"`{default}`" if default and "`" not in default else default
        print(f"| `{name}` | {shown} | {doc} |")


def _days(raw: str) -> timedelta:
    try:
        days = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of days, got {raw!r}") from None
    if not 1 <= days <= _MAX_KEY_DAYS:
        raise argparse.ArgumentTypeError(f"expected 1 to {_MAX_KEY_DAYS} days, got {days}")
    return timedelta(days=days)


def _key_id(raw: str) -> ApiKeyId:
    try:
        return ApiKeyId(UUID(raw))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a key id (a UUID), got {raw!r}") from None


def _add_api_key_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    api_key = commands.add_parser(
        "api-key",
        help="API keys: the embedded local user's (create, list, revoke), or any user's "
        "(create --user)",
    )
    actions = api_key.add_subparsers(dest="action", required=True)
    create = actions.add_parser(
        "create",
        help="make an API key for the local user, or for --user in either binding, and print "
        "its token, once, alone on stdout",
    )
    create.add_argument(
        "--user",
        default=None,
        metavar="EMAIL|ID",
        help="the user the key acts as (default: the embedded local user)",
    )
    create.add_argument(
        "--org",
        default=None,
        metavar="SLUG|ID",
        help="with --user: the organization it acts in (default: the user's personal one)",
    )
    create.add_argument("--name", default="local", help="a label for the key (default: local)")
    create.add_argument(
        "--scope",
        action="append",
        default=[],
        choices=[s.value for s in Scope],
        dest="scopes",
        help="what the key may do; repeat it for several (default: every scope)",
    )
    create.add_argument(
        "--expires-in",
        type=_days,
        default=None,
        metavar="DAYS",
        help=f"days until the key expires, 1 to {_MAX_KEY_DAYS} (default: never)",
    )
    actions.add_parser("list", help="one line per key: id, name, prefix, status, expiry, scopes")
    revoke = actions.add_parser("revoke", help="revoke a key by its id; it stops working at once")
    revoke.add_argument("key_id", type=_key_id, metavar="ID")


def _job_id(raw: str) -> JobId:
    try:
        return JobId(UUID(raw))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a job id (a UUID), got {raw!r}") from None


def _add_jobs_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    commands.add_parser(
        "worker",
        help="run job workers and the job scheduler until SIGTERM or SIGINT (no HTTP)",
    )
    jobs = commands.add_parser(
        "jobs", help="the background job queue: list, show, retry or drop jobs; its depth"
    )
    actions = jobs.add_subparsers(dest="action", required=True)
    listed = actions.add_parser("list", help="one JSON object per job, newest first")
    listed.add_argument("--status", choices=[s.value for s in JobStatus], default=None)
    listed.add_argument("--kind", default=None, help="only jobs of this kind")
    listed.add_argument("--limit", type=int, default=100, help="at most this many (default 100)")
    for action, words in (
        ("show", "one job as JSON, with its payload"),
        ("retry", "queue a dead job again, due now, with all its attempts"),
        ("drop", "delete a dead job for good"),
    ):
        actions.add_parser(action, help=words).add_argument("job_id", type=_job_id, metavar="ID")
    actions.add_parser("depth", help="jobs due, scheduled, running and dead, as JSON")


def _delivery_id(raw: str) -> WebhookDeliveryId:
    try:
        return WebhookDeliveryId(UUID(raw))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a delivery id (a UUID), got {raw!r}") from None


def _add_webhooks_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    webhooks = commands.add_parser(
        "webhooks", help="the webhook inbox: list and show deliveries; retry or drop dead ones"
    )
    actions = webhooks.add_subparsers(dest="action", required=True)
    listed = actions.add_parser("list", help="one JSON object per delivery, newest first")
    listed.add_argument("--source", default=None, help="only deliveries from this source")
    listed.add_argument(
        "--state",
        choices=["received", "processed", "dead"],
        default=None,
        help="dead: received, and its processing failed for good",
    )
    listed.add_argument("--limit", type=int, default=100, help="at most this many (default 100)")
    for action, words in (
        ("show", "one delivery as JSON, with its body and its job"),
        ("retry", "process a dead delivery again, with all its attempts"),
        ("drop", "give a dead delivery up: marked processed as dropped, its job deleted"),
    ):
        actions.add_parser(action, help=words).add_argument(
            "delivery_id", type=_delivery_id, metavar="ID"
        )


def _add_user_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    user = commands.add_parser("user", help="users: create one (e.g. the first of a server)")
    actions = user.add_subparsers(dest="action", required=True)
    create = actions.add_parser(
        "create",
        help="make a user with a personal organization; prints it as JSON",
    )
    create.add_argument("email", metavar="EMAIL", help="their address (counted as verified)")
    create.add_argument("--name", default=None, help="the name shown (default: from the email)")
    create.add_argument(
        "--subject",
        default=None,
        help="the subject the identity provider gives them, so that signing in finds this "
        "user (default: none; the user acts through API keys)",
    )


def build_parser() -> argparse.ArgumentParser:
    """Every ``maestrist`` command and its options."""
    parser = argparse.ArgumentParser(
        prog="maestrist",
        description="Maestrist Enterprise Server. Results go to stdout, logs and errors to stderr.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="run the HTTP server with the production ASGI server")
    commands.add_parser("migrate", help="apply pending database migrations")
    commands.add_parser(
        "check-config", help="validate the environment and summarize it (never its secrets)"
    )
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
    _add_api_key_commands(commands)
    _add_jobs_commands(commands)
    _add_webhooks_commands(commands)
    _add_user_commands(commands)
    add_billing_commands(commands)
    return parser


def _api_key(settings: Settings, args: argparse.Namespace) -> int:
    from entrypoints.ioc.commands import (  # noqa: PLC0415 - see _run
        create_local_api_key,
        issue_api_key,
        list_local_api_keys,
        revoke_local_api_key,
    )

    if args.action == "create":
        scopes = frozenset(map(Scope, args.scopes)) or frozenset(Scope)
        if args.user is not None:
            print(issue_api_key(settings, args.user, args.org, args.name, scopes, args.expires_in))
        elif args.org is not None:
            raise SettingsError({"--org": "goes with --user"})
        else:
            print(create_local_api_key(settings, args.name, scopes, args.expires_in))
    elif args.action == "list":
        now, keys = list_local_api_keys(settings)
        for key in keys:
            status = (
                "revoked"
                if key.revoked_at is not None
                else "active"
                if key.is_usable(now)
                else "expired"
            )
            expires = key.expires_at.isoformat(timespec="seconds") if key.expires_at else "never"
            print(
                "\t".join(
                    (
                        str(key.id_),
                        key.name.value,
                        key.prefix,
                        status,
                        expires,
                        ",".join(sorted(key.scopes)),
                    )
                )
            )
    else:
        revoke_local_api_key(settings, args.key_id)
        print(f"revoked {args.key_id}")
    return 0


def _queue_command(settings: Settings, args: argparse.Namespace) -> int:
    """``jobs``, ``webhooks`` and ``billing``: each prints the lines its action answers."""
    from entrypoints.cli.billing import billing_command  # noqa: PLC0415 - see _run
    from entrypoints.cli.jobs import jobs_command  # noqa: PLC0415
    from entrypoints.cli.webhooks import webhooks_command  # noqa: PLC0415
    from entrypoints.ioc.commands import run_jobs_command  # noqa: PLC0415

    command = {"jobs": jobs_command, "webhooks": webhooks_command, "billing": billing_command}[
        args.command
    ](args)
    for line in run_jobs_command(settings, command):
        print(line)
    return 0


def _run(args: argparse.Namespace) -> int:
    if args.command == "settings-table":
        _settings_table()
        return 0
    if args.command == "new-key":
        key = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
        print(f"k{time.strftime('%Y%m%d')}:{key}")
        return 0
    settings = Settings.from_env()
    configure_logging(level=settings.server.log_level, log_format=settings.server.log_format)
    if args.command == "serve":
        serve(settings)
        return 0
    return _run_with_adapters(settings, args)


def _run_with_adapters(settings: Settings, args: argparse.Namespace) -> int:
    """The commands that need the composition root. It loads the application and the
    adapters: ``serve`` leaves that to its workers, so the process that supervises them stays
    small and starts them sooner."""
    from entrypoints.ioc.commands import (  # noqa: PLC0415
        agent_server_status,
        create_user,
        migrate,
        rotate_encryption_keys,
        run_worker,
        stop_agent_server,
    )

    if args.command == "api-key":
        return _api_key(settings, args)
    if args.command in {"jobs", "webhooks", "billing"}:
        return _queue_command(settings, args)
    if args.command == "check-config":
        print("\n".join(describe(settings)))
    elif args.command == "migrate":
        migrate(settings)
    elif args.command == "rotate-keys":
        print(f"resealed {rotate_encryption_keys(settings)} records")
    elif args.command == "user":
        print(create_user(settings, args.email, args.name, args.subject))
    elif args.command == "worker":
        run_worker(settings)
    elif args.action == "stop":  # agent-server
        stop_agent_server(settings)
        print("stopped")
    else:
        print(agent_server_status(settings))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command: its result on stdout, logs on stderr; 2 for a bad configuration or
    input, named on stderr."""
    args = build_parser().parse_args(argv)
    try:
        return _run(args)
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    except DomainError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2 if isinstance(exc, InvalidValueError) else 1
    except DependencyUnavailableError as exc:
        where = "`maestrist check-config` shows where it is"
        print(f"error: {exc.message.rstrip('.')}; {where}.", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
