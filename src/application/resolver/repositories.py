"""The repositories an organization's admins enable the resolver on at GitLab and Bitbucket
Cloud, and the jobs that install and remove their webhooks there."""

import logging
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from application.git.provider_tokens import ProviderTokens
from application.jobs.handlers import JobHandler, PermanentJobError
from application.ports.clock import Clock
from application.ports.git_app import GitApps
from application.ports.org_repository import MemberOrganization
from application.ports.unit_of_work import UnitOfWork
from application.resolver.links import ResolverLinks
from domain.audit.entities import AuditAction, AuditEvent
from domain.git.errors import ProviderNotConnectedError, ProviderReconnectRequiredError
from domain.git.providers import ProviderKind
from domain.identity.entities import UserId
from domain.identity.principals import Principal
from domain.jobs.entities import Job, NewJob, RetryPolicy
from domain.organizations.entities import OrgId, Role
from domain.organizations.errors import NotAnOrgAdminError, OrgNotFoundError
from domain.resolver.entities import (
    RepositoryHook,
    RepositoryHookNotFoundError,
    RepositoryHookTakenError,
)
from domain.shared.errors import InvalidValueError
from domain.shared.ids import new_id

__all__ = (
    "INSTALL_HOOK",
    "REMOVE_HOOK",
    "DisableResolverRepository",
    "DisableResolverRepositoryRequest",
    "EnableResolverRepository",
    "EnableResolverRepositoryRequest",
    "EnabledRepository",
    "InstallRepositoryHook",
    "ListResolverRepositories",
    "RemoveRepositoryHook",
    "admin_view",
)

_log = logging.getLogger(__name__)

INSTALL_HOOK = "resolver.install_hook"
REMOVE_HOOK = "resolver.remove_hook"
_RETRY = RetryPolicy(max_attempts=6, timeout=timedelta(minutes=1), backoff=timedelta(seconds=30))
_SEGMENT = re.compile(r"[A-Za-z0-9_.-]{1,100}")
_HOOKED = frozenset({ProviderKind.GITLAB, ProviderKind.BITBUCKET})


async def admin_view(uow: UnitOfWork, actor: Principal, org_id: OrgId) -> MemberOrganization:
    """The organization as its owner or admin sees it: another tenant's (or, to an API key,
    any other than its own) is not found; a member is told they are not an admin."""
    found = await uow.orgs.get_for_member(org_id, actor.user.id_)
    if found is None or actor.bound_org_id not in (None, org_id):
        raise OrgNotFoundError
    if found.role not in {Role.OWNER, Role.ADMIN}:
        raise NotAnOrgAdminError
    return found


def _provider(raw: str) -> ProviderKind:
    provider = ProviderKind.parse(raw)
    if provider not in _HOOKED:
        raise InvalidValueError(
            "Repositories are enabled at gitlab or bitbucket; GitHub's come with its app.",
            field="provider",
        )
    return provider


def _repository(provider: ProviderKind, raw: str, *, group: bool) -> str:
    if group and provider is not ProviderKind.GITLAB:
        raise InvalidValueError("Only GitLab has group webhooks.", field="group")
    segments = raw.strip().strip("/").split("/")
    fewest, deepest = (1, 20) if group else (2, 21 if provider is ProviderKind.GITLAB else 2)
    if (
        not fewest <= len(segments) <= deepest
        or any(not _SEGMENT.fullmatch(s) or s in {".", ".."} for s in segments)
        or len(raw) > 255
    ):
        shape = "group/project" if provider is ProviderKind.GITLAB else "workspace/repository"
        raise InvalidValueError(
            "A group is named group/subgroup." if group else f"A repository is named {shape}.",
            field="repository",
        )
    return "/".join(segments)


@dataclass(frozen=True, slots=True, kw_only=True)
class EnabledRepository:
    hook: RepositoryHook
    webhook_url: str
    """Where its webhook delivers (``/api/webhooks/{provider}``)."""
    secret: str | None = None
    """The webhook's secret, shown once, when it is registered by hand."""


@dataclass(frozen=True, slots=True, kw_only=True)
class EnableResolverRepositoryRequest:
    actor: Principal
    org_id: OrgId
    provider: str
    repository: str
    install: bool = True
    """Install the webhook through the provider's API; else the admin registers it by hand
    with the secret in the answer."""
    group: bool = False
    """``repository`` names a GitLab group: its webhook serves every project under it."""


class EnableResolverRepository:
    """An organization's owner or admin enables the resolver on a GitLab project (or every
    project of a GitLab group) or a Bitbucket Cloud repository, at the host of the account
    they connected: its webhook gets
    a random secret of its own (sealed at rest), and is installed by a job with their token
    (GitLab: the token of the hook; Bitbucket: its signing secret), or registered by hand
    with the secret answered once. Triggers there start conversations in this organization,
    and the replies are written with the enabling admin's token. Audited."""

    def __init__(self, uow: UnitOfWork, clock: Clock, links: ResolverLinks) -> None:
        self._uow = uow
        self._clock = clock
        self._links = links

    async def execute(self, request: EnableResolverRepositoryRequest) -> EnabledRepository:
        await admin_view(self._uow, request.actor, request.org_id)
        provider = _provider(request.provider)
        repository = _repository(provider, request.repository, group=request.group)
        user_id = request.actor.user.id_
        token = await self._uow.provider_tokens.get(user_id, provider)
        if token is None:
            raise ProviderNotConnectedError(provider)
        now = self._clock.now()
        hook = RepositoryHook(
            id_=str(new_id()),
            provider=provider,
            web_url=token.host.base_url or self._links.host_url(provider),
            repository=repository,
            org_id=request.org_id,
            enabled_by=user_id,
            secret=secrets.token_urlsafe(32),
            managed=request.install,
            group=request.group,
            created_at=now,
            updated_at=now,
        )
        if not await self._uow.repository_hooks.add(hook):
            raise RepositoryHookTakenError
        if request.install:
            await self._uow.jobs.enqueue(
                NewJob(
                    kind=INSTALL_HOOK,
                    key=f"resolver-hook:{hook.id_}",
                    payload={"hook": hook.id_},
                    retry=_RETRY,
                ),
                now,
            )
        await self._audit(request, AuditAction.RESOLVER_REPOSITORY_ENABLED, hook)
        await self._uow.commit()
        return EnabledRepository(
            hook=hook,
            webhook_url=self._links.webhook_url(provider),
            secret=None if request.install else hook.secret,
        )

    async def _audit(
        self, request: EnableResolverRepositoryRequest, action: AuditAction, hook: RepositoryHook
    ) -> None:
        await self._uow.audit.append(
            AuditEvent(
                occurred_at=hook.updated_at,
                action=action,
                actor_id=request.actor.user.id_,
                org_id=request.org_id,
                target_type="resolver_repository",
                target_id=hook.id_,
                details={"provider": hook.provider.value, "repository": hook.repository},
            )
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class DisableResolverRepositoryRequest:
    actor: Principal
    org_id: OrgId
    hook_id: str


class DisableResolverRepository:
    """An organization's owner or admin disables the resolver on a repository: its deliveries
    are refused from now on, and a webhook the server installed is removed at the provider by
    a job (one registered by hand is the admin's to remove). Audited."""

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(self, request: DisableResolverRepositoryRequest) -> None:
        await admin_view(self._uow, request.actor, request.org_id)
        hook = await self._uow.repository_hooks.get(request.hook_id)
        if hook is None or hook.org_id != request.org_id:
            raise RepositoryHookNotFoundError
        await self._uow.repository_hooks.delete(hook.id_)
        now = self._clock.now()
        if hook.managed and hook.hook_id is not None:
            await self._uow.jobs.enqueue(
                NewJob(
                    kind=REMOVE_HOOK,
                    key=f"resolver-hook-removal:{hook.id_}",
                    payload={
                        "provider": hook.provider.value,
                        "repository": hook.repository,
                        "hook_id": hook.hook_id,
                        "group": hook.group,
                        "user": str(hook.enabled_by),
                    },
                    retry=_RETRY,
                ),
                now,
            )
        await self._uow.audit.append(
            AuditEvent(
                occurred_at=now,
                action=AuditAction.RESOLVER_REPOSITORY_DISABLED,
                actor_id=request.actor.user.id_,
                org_id=request.org_id,
                target_type="resolver_repository",
                target_id=hook.id_,
                details={"provider": hook.provider.value, "repository": hook.repository},
            )
        )
        await self._uow.commit()


class ListResolverRepositories:
    """The repositories the resolver is enabled on in an organization; owners and admins
    only. Secrets are never shown."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def execute(self, actor: Principal, org_id: OrgId) -> list[RepositoryHook]:
        await admin_view(self._uow, actor, org_id)
        return await self._uow.repository_hooks.list_for_org(org_id)


class InstallRepositoryHook(JobHandler):
    """Install an enabled repository's webhook at the provider with its enabling admin's
    token; a repository disabled meanwhile, or installed already, is left alone, and a
    webhook of ours already there (an attempt whose worker died before keeping its id) is
    taken, not made twice."""

    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        apps: GitApps,
        provider_tokens: ProviderTokens,
        links: ResolverLinks,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._apps = apps
        self._provider_tokens = provider_tokens
        self._links = links

    async def handle(self, job: Job) -> None:
        hook = await self._uow.repository_hooks.get(str(job.payload.get("hook", "")))
        if hook is None or hook.hook_id is not None:
            return
        try:
            token = await self._provider_tokens.fresh(hook.enabled_by, hook.provider)
        except (ProviderNotConnectedError, ProviderReconnectRequiredError) as exc:
            raise PermanentJobError(exc.message) from exc
        await self._uow.rollback()  # nothing written: no transaction held across the call
        hooks = self._apps.hooks(token.host, token.access_token)
        url = self._links.webhook_url(hook.provider)
        installed = await hooks.find(hook.repository, url, group=hook.group)
        if installed is None:
            installed = await hooks.install(hook.repository, url, hook.secret, group=hook.group)
        kept = await self._uow.repository_hooks.get(hook.id_)
        if kept is None:  # disabled while it was being installed
            await hooks.remove(hook.repository, installed, group=hook.group)
            return
        kept.hook_id = installed
        kept.updated_at = self._clock.now()
        await self._uow.repository_hooks.save(kept)
        await self._uow.commit()
        _log.info("webhook %s installed on %s", installed, hook.repository)


class RemoveRepositoryHook(JobHandler):
    """Remove a disabled repository's webhook at the provider, with the token of the admin
    who enabled it; one gone already is no error."""

    def __init__(self, apps: GitApps, provider_tokens: ProviderTokens) -> None:
        self._apps = apps
        self._provider_tokens = provider_tokens

    async def handle(self, job: Job) -> None:
        try:
            provider = ProviderKind(str(job.payload["provider"]))
            repository = str(job.payload["repository"])
            hook_id = str(job.payload["hook_id"])
            group = bool(job.payload.get("group"))
            user_id = UserId(UUID(str(job.payload["user"])))
        except (KeyError, ValueError) as exc:
            raise PermanentJobError(f"the job names no webhook: {exc}") from exc
        try:
            token = await self._provider_tokens.fresh(user_id, provider)
        except (ProviderNotConnectedError, ProviderReconnectRequiredError) as exc:
            raise PermanentJobError(exc.message) from exc
        hooks = self._apps.hooks(token.host, token.access_token)
        await hooks.remove(repository, hook_id, group=group)
