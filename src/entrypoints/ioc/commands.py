"""Operator commands that need adapters, so they live in the composition root."""

import asyncio
import json
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any, TypeVar

import structlog
from asyncpg.exceptions import InvalidAuthorizationSpecificationError, InvalidCatalogNameError
from dishka import AsyncContainer, make_async_container
from dishka.integrations.litestar import LitestarProvider
from sqlalchemy.exc import DBAPIError

from adapters.sqlalchemy import create_database_engine, dispose_engine, upgrade_to_head
from adapters.sqlalchemy.errors import translate_db_errors
from application.api_keys import (
    CreateApiKey,
    CreateApiKeyRequest,
    ListApiKeys,
    ListApiKeysRequest,
    RevokeApiKey,
    RevokeApiKeyRequest,
)
from application.api_keys.issue_api_key import IssueApiKey, IssueApiKeyRequest
from application.errors import DependencyUnavailableError
from application.identity.create_user import CreateUser, CreateUserRequest
from application.identity.rotate_encryption_keys import (
    RotateEncryptionKeys,
    RotateEncryptionKeysRequest,
)
from application.organizations import ActiveOrgResolver
from application.ports.clock import Clock
from application.ports.conversation_runtime import RuntimeHost
from application.ports.org_repository import MemberOrganization
from application.ports.unit_of_work import UnitOfWork
from domain.conversations.value_objects import HostHealth
from domain.identity.api_keys import ApiKey, ApiKeyId
from domain.identity.entities import LOCAL_USER_SUBJECT
from domain.identity.principals import AuthMethod, Principal
from domain.identity.scopes import Scope
from entrypoints.ioc.app import prepare_embedded
from entrypoints.ioc.jobs import start_jobs, stop_jobs
from entrypoints.ioc.registry import get_providers
from entrypoints.ioc.runtime import local_agent_server, sandbox_pool
from entrypoints.ioc.worker_metrics import serving_worker_metrics
from entrypoints.settings import Binding, Settings, SettingsError

_log = structlog.get_logger("maestrist.worker")

__all__ = (
    "JobsCommand",
    "agent_server_status",
    "create_local_api_key",
    "create_user",
    "issue_api_key",
    "list_local_api_keys",
    "migrate",
    "revoke_local_api_key",
    "rotate_encryption_keys",
    "run_jobs_command",
    "run_worker",
    "stop_agent_server",
)

_T = TypeVar("_T")

_REFUSALS = (InvalidCatalogNameError, InvalidAuthorizationSpecificationError)
"""Why PostgreSQL turns a connection away: no such database, or the user may not connect."""


async def _migrate(settings: Settings) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_database_engine(
        settings.effective_database_url,
        pool_size=1,
        connect_timeout_s=settings.dependency_timeout_s,
    )
    try:
        async with translate_db_errors():
            await upgrade_to_head(engine)
    except DBAPIError as exc:
        refusal = exc.orig.__cause__ if exc.orig is not None else None
        if not isinstance(refusal, _REFUSALS):
            raise
        # PostgreSQL's own words name the database or user, never the password.
        raise DependencyUnavailableError(
            f"The database refused the connection: {refusal}."
        ) from exc
    finally:
        await dispose_engine(engine)


def migrate(settings: Settings) -> None:
    """Apply every pending migration to the database ``settings`` points at."""
    asyncio.run(_migrate(settings))


@asynccontextmanager
async def _as_local_user(settings: Settings) -> AsyncIterator[tuple[AsyncContainer, Principal]]:
    """A request scope acting as the embedded binding's local user (made on first use)."""
    if settings.binding is not Binding.EMBEDDED:
        raise SettingsError({"MAESTRIST_BINDING": "only the embedded binding has a local user"})
    container = make_async_container(
        *get_providers(settings), LitestarProvider(), context={Settings: settings}
    )
    try:
        await prepare_embedded(container, settings)
        async with container() as scope:
            user = await (await scope.get(UnitOfWork)).users.get_by_subject(LOCAL_USER_SUBJECT)
            assert user is not None
            yield scope, Principal(user=user, method=AuthMethod.LOCAL)
    finally:
        await container.close()


async def _personal_org(scope: AsyncContainer, actor: Principal) -> MemberOrganization:
    return await (await scope.get(ActiveOrgResolver)).resolve(actor)


async def _create_local_api_key(
    settings: Settings, name: str, scopes: frozenset[Scope], expires_in: timedelta | None
) -> str:
    async with _as_local_user(settings) as (scope, actor):
        clock = await scope.get(Clock)
        created = await (await scope.get(CreateApiKey)).execute(
            CreateApiKeyRequest(
                actor=actor,
                org=await _personal_org(scope, actor),
                name=name,
                scopes=scopes,
                expires_at=None if expires_in is None else clock.now() + expires_in,
            )
        )
        return str(created.token)


def create_local_api_key(
    settings: Settings,
    name: str,
    scopes: frozenset[Scope],
    expires_in: timedelta | None = None,
) -> str:
    """Embedded: make an API key for the local user in its personal organization; the token."""
    return asyncio.run(_create_local_api_key(settings, name, scopes, expires_in))


async def _list_local_api_keys(settings: Settings) -> tuple[datetime, list[ApiKey]]:
    async with _as_local_user(settings) as (scope, actor):
        now = (await scope.get(Clock)).now()
        listed = await (await scope.get(ListApiKeys)).execute(
            ListApiKeysRequest(actor=actor, org=await _personal_org(scope, actor))
        )
        return now, listed.keys


def list_local_api_keys(settings: Settings) -> tuple[datetime, list[ApiKey]]:
    """Embedded: the local user's API keys, newest first, with the time they were read at."""
    return asyncio.run(_list_local_api_keys(settings))


async def _revoke_local_api_key(settings: Settings, key_id: ApiKeyId) -> None:
    async with _as_local_user(settings) as (scope, actor):
        await (await scope.get(RevokeApiKey)).execute(
            RevokeApiKeyRequest(actor=actor, key_id=key_id)
        )


def revoke_local_api_key(settings: Settings, key_id: ApiKeyId) -> None:
    """Embedded: revoke one of the local user's API keys (``ApiKeyNotFoundError`` if none)."""
    asyncio.run(_revoke_local_api_key(settings, key_id))


async def _rotate_keys(settings: Settings) -> int:
    container = make_async_container(
        *get_providers(settings), LitestarProvider(), context={Settings: settings}
    )
    try:
        async with container() as scope:
            rotate = await scope.get(RotateEncryptionKeys)
            return (await rotate.execute(RotateEncryptionKeysRequest())).resealed
    finally:
        await container.close()


def rotate_encryption_keys(settings: Settings) -> int:
    """Reseal every stored secret with the first key of ``MAESTRIST_ENCRYPTION_KEYS``."""
    if settings.crypto.encryption_keys is None:
        raise SettingsError({"MAESTRIST_ENCRYPTION_KEYS": "set the keys to rotate to"})
    return asyncio.run(_rotate_keys(settings))


def _local_hosts(settings: Settings) -> dict[str, RuntimeHost]:
    """The shared local agent-server and every sandbox's, by name."""
    hosts: dict[str, RuntimeHost] = {"shared": local_agent_server(settings)}
    pool = sandbox_pool(settings)
    if pool is not None:
        hosts.update({name: pool.host(name).inner for name in pool.names()})
    return hosts


def agent_server_status(settings: Settings) -> str:
    """``up`` when an agent-server of this installation runs, else ``down``; then each one's
    ``up``, ``starting`` or ``down``, the shared one and each sandbox's."""

    async def health() -> list[tuple[str, HostHealth]]:
        return [(name, await host.health()) for name, host in _local_hosts(settings).items()]

    each = asyncio.run(health())
    overall = "up" if any(state is not HostHealth.DOWN for _, state in each) else "down"
    return "\n".join([overall, *(f"  {name}: {state.value}" for name, state in each)])


def stop_agent_server(settings: Settings) -> None:
    """Stop the local agent-servers (the shared one and every sandbox's), which outlive the
    server so that a restart adopts them; their conversations are kept and resume when next
    used."""

    async def stop() -> None:
        for host in _local_hosts(settings).values():
            await host.stop()

    asyncio.run(stop())


@asynccontextmanager
async def _container(settings: Settings) -> AsyncIterator[AsyncContainer]:
    """The binding's container for a command; embedded, its database migrated first."""
    container = make_async_container(
        *get_providers(settings), LitestarProvider(), context={Settings: settings}
    )
    try:
        if settings.binding is Binding.EMBEDDED:
            await prepare_embedded(container, settings)
        yield container
    finally:
        await container.close()


JobsCommand = Callable[[AsyncContainer], Awaitable[_T]]
"""What a ``maestrist jobs`` command does with a request scope of the binding's container."""


def run_jobs_command(settings: Settings, command: "JobsCommand[Any]") -> Any:
    """Run one operator command on the queue, in a request scope of its own."""

    async def run() -> Any:
        async with _container(settings) as container, container() as scope:
            return await command(scope)

    return asyncio.run(run())


async def _work(settings: Settings) -> None:
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    async with _container(settings) as container:
        await start_jobs(container)
        _log.info("worker_started", concurrency=settings.jobs.concurrency)
        try:
            async with serving_worker_metrics(settings, container):
                await stopping.wait()
        finally:
            await stop_jobs(container)
            _log.info("worker_stopped")


def run_worker(settings: Settings) -> None:
    """Run job workers and the scheduler until SIGTERM or SIGINT; a job being run when it
    stops goes back to the queue, due at once."""
    asyncio.run(_work(settings))


def issue_api_key(
    settings: Settings,
    user: str,
    org: str | None,
    name: str,
    scopes: frozenset[Scope],
    expires_in: timedelta | None = None,
) -> str:
    """Make an API key acting as ``user`` (email or id) in ``org`` (slug or id; None: their
    personal organization), in either binding; the token."""

    async def issue(scope: AsyncContainer) -> str:
        expires_at = None if expires_in is None else (await scope.get(Clock)).now() + expires_in
        issued = await (await scope.get(IssueApiKey)).execute(
            IssueApiKeyRequest(user=user, org=org, name=name, scopes=scopes, expires_at=expires_at)
        )
        return str(issued.token)

    result: str = run_jobs_command(settings, issue)
    return result


def create_user(settings: Settings, email: str, name: str | None, subject: str | None) -> str:
    """Make a user with a personal organization; the user as one line of JSON."""

    async def create(scope: AsyncContainer) -> str:
        user = await (await scope.get(CreateUser)).execute(
            CreateUserRequest(email=email, display_name=name, subject=subject)
        )
        personal = await (await scope.get(UnitOfWork)).orgs.get_personal(user.id_)
        return json.dumps(
            {
                "id": str(user.id_),
                "subject": user.subject,
                "email": user.email.value,
                "name": user.display_name,
                "personalOrg": None if personal is None else personal.organization.slug.value,
            },
            ensure_ascii=False,
        )

    result: str = run_jobs_command(settings, create)
    return result
