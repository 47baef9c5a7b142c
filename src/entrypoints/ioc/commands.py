"""Operator commands that need adapters, so they live in the composition root."""

import asyncio

from dishka import make_async_container
from dishka.integrations.litestar import LitestarProvider

from adapters.sqlalchemy import create_database_engine, upgrade_to_head
from application.api_keys import CreateApiKey, CreateApiKeyRequest
from application.identity.rotate_encryption_keys import RotateEncryptionKeys
from application.organizations import ResolveActiveOrg, ResolveActiveOrgRequest
from application.ports.authenticator import AuthMethod, Principal
from domain.identity.entities import LOCAL_USER_SUBJECT
from domain.identity.scopes import Scope
from domain.ports.user_repository import UserRepository
from entrypoints.ioc.app import prepare_embedded
from entrypoints.ioc.providers import get_providers
from entrypoints.ioc.runtime import local_agent_server
from entrypoints.settings import Binding, Settings, SettingsError

__all__ = (
    "agent_server_status",
    "create_local_api_key",
    "migrate",
    "rotate_encryption_keys",
    "stop_agent_server",
)


async def _migrate(settings: Settings) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_database_engine(
        settings.effective_database_url,
        pool_size=1,
        connect_timeout_s=settings.dependency_timeout_s,
    )
    try:
        await upgrade_to_head(engine)
    finally:
        await engine.dispose()


def migrate(settings: Settings) -> None:
    """Apply every pending migration to the database ``settings`` points at."""
    asyncio.run(_migrate(settings))


async def _create_local_api_key(settings: Settings, name: str, scopes: frozenset[Scope]) -> str:
    container = make_async_container(
        *get_providers(settings), LitestarProvider(), context={Settings: settings}
    )
    try:
        await prepare_embedded(container, settings)
        async with container() as scope:
            users = await scope.get(UserRepository)
            user = await users.get_by_subject(LOCAL_USER_SUBJECT)
            assert user is not None
            actor = Principal(user=user, method=AuthMethod.LOCAL)
            org = await (await scope.get(ResolveActiveOrg)).execute(
                ResolveActiveOrgRequest(actor=actor)
            )
            created = await (await scope.get(CreateApiKey)).execute(
                CreateApiKeyRequest(actor=actor, org=org, name=name, scopes=scopes)
            )
        return str(created.token)
    finally:
        await container.close()


def create_local_api_key(settings: Settings, name: str, scopes: frozenset[Scope]) -> str:
    """Embedded: make an API key for the local user in its personal organization."""
    if settings.binding is not Binding.EMBEDDED:
        raise SettingsError({"MAESTRIST_BINDING": "only the embedded binding has a local user"})
    return asyncio.run(_create_local_api_key(settings, name, scopes))


async def _rotate_keys(settings: Settings) -> int:
    container = make_async_container(
        *get_providers(settings), LitestarProvider(), context={Settings: settings}
    )
    try:
        async with container() as scope:
            return await (await scope.get(RotateEncryptionKeys)).execute()
    finally:
        await container.close()


def rotate_encryption_keys(settings: Settings) -> int:
    """Reseal every stored secret with the first key of ``MAESTRIST_ENCRYPTION_KEYS``."""
    if settings.encryption_keys is None:
        raise SettingsError({"MAESTRIST_ENCRYPTION_KEYS": "set the keys to rotate to"})
    return asyncio.run(_rotate_keys(settings))


def agent_server_status(settings: Settings) -> str:
    """``up``, ``starting`` or ``down``: the local agent-server this installation started."""
    return asyncio.run(local_agent_server(settings).health()).value


def stop_agent_server(settings: Settings) -> None:
    """Stop the local agent-server, which outlives the server so that a restart adopts it;
    its conversations are kept and resume when the server next starts one."""
    asyncio.run(local_agent_server(settings).stop())
