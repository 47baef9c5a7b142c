"""What GitLab's and Bitbucket's webhook sources share: each repository's webhook has a secret
of its own, kept with the repository an organization enabled, and a trigger in a delivery is
answered in that organization, with its enabling user's token."""

from dataclasses import dataclass, replace

from application.ports.unit_of_work import UnitOfWork
from application.resolver.answer_trigger import ResolverTrigger
from application.resolver.settings import org_policy
from domain.git.providers import ProviderKind
from domain.resolver.entities import RepositoryHook
from domain.resolver.triggers import ResolverPolicy, ThreadEvent
from domain.webhooks.entities import WebhookDelivery

__all__ = ("RepositoryDelivery", "hook_secrets", "queue_trigger")


@dataclass(frozen=True, slots=True, kw_only=True)
class RepositoryDelivery:
    """A delivery read: the repository it is about (full path, web address) and what was done
    on its issues or pull requests (one event per label added)."""

    repository: str
    web_url: str
    events: tuple[ThreadEvent, ...] = ()


async def hook_secrets(uow: UnitOfWork, provider: ProviderKind, repository: str) -> tuple[str, ...]:
    """The secrets of the webhooks on repositories of this path (at any web address)."""
    if not repository:
        return ()
    return tuple(h.secret for h in await uow.repository_hooks.for_repository(provider, repository))


def _hook_of(hooks: list[RepositoryHook], web_url: str) -> RepositoryHook | None:
    return next((h for h in hooks if h.serves(web_url)), None)


async def queue_trigger(
    uow: UnitOfWork,
    delivery: WebhookDelivery,
    read: RepositoryDelivery,
    provider: ProviderKind,
    policy: ResolverPolicy,
) -> str:
    """Enqueue the answer to the first trigger in ``read``, for the hook of its repository, by
    the label and handle of the organization that enabled it; the account the replies are
    written as (the enabling user's) never triggers."""
    if not read.events:
        return f"ignored: nothing acts on {delivery.event} events"
    hooks = await uow.repository_hooks.for_repository(provider, read.repository)
    hook = _hook_of(hooks, read.web_url)
    if hook is None:
        return "ignored: the resolver is not enabled on the repository"
    policy = await org_policy(uow, hook.org_id, policy)
    own = await uow.git_identities.of_user(hook.enabled_by, provider)
    if own is not None:
        policy = replace(policy, own_accounts=policy.own_accounts | {own.account_id})
    for event in read.events:
        kind = policy.trigger_of(event)
        if kind is None:
            continue
        trigger = ResolverTrigger(
            key=delivery.job_key, event=event, kind=kind, installation_id=hook.id_
        )
        await uow.jobs.enqueue(trigger.job(), delivery.received_at)
        return f"{kind.value} trigger queued"
    return "ignored: no trigger"
