"""Answering a trigger on an issue or pull request: the job a webhook delivery enqueues."""

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from application.conversations.send_message import SendMessage, SendMessageRequest
from application.conversations.start_conversation import (
    StartConversation,
    StartConversationRequest,
)
from application.errors import DependencyUnavailableError
from application.jobs.handlers import JobHandler, PermanentJobError
from application.ports.clock import Clock
from application.ports.conversation_repository import ConversationFilter
from application.ports.git_app import GitApps, IssueThreads
from application.ports.locks import Locks
from application.ports.org_repository import MemberOrganization
from application.ports.unit_of_work import UnitOfWork
from application.resolver.credentials import ActingToken, ThreadCredentials
from application.resolver.links import ResolverLinks
from domain.conversations.entities import Tenant
from domain.conversations.value_objects import ConversationId
from domain.git.errors import ProviderReconnectRequiredError
from domain.git.providers import ProviderKind
from domain.identity.principals import AuthMethod, Principal
from domain.jobs.entities import Job, NewJob, RetryPolicy
from domain.resolver.entities import ResolverThread
from domain.resolver.triggers import (
    ConversationTrigger,
    EventSender,
    ThreadEvent,
    ThreadEventKind,
    ThreadRef,
    TriggerKind,
)
from domain.shared.errors import DomainError

__all__ = (
    "ANSWER_TRIGGER",
    "RESOLVER_REPLY_CALLBACK",
    "AnswerTrigger",
    "ResolverTrigger",
    "prompt_of",
)

_log = logging.getLogger(__name__)

ANSWER_TRIGGER = "resolver.trigger"
RESOLVER_REPLY_CALLBACK = "resolver_reply"
"""The callback a resolver conversation runs: it posts the summary when a run ends."""
_RETRY = RetryPolicy(max_attempts=5, timeout=timedelta(minutes=3), backoff=timedelta(seconds=20))
_THREAD_LOCK_TTL = timedelta(minutes=3)
_THREAD_LOCK_WAIT = timedelta(seconds=30)
_MAX_TEXT = 20_000
_TURN_WAIT = timedelta(seconds=30)
"""How long a trigger over its repository's cap waits before it looks again."""
MAX_TURNS = int(timedelta(hours=12) / _TURN_WAIT)
"""How many times a trigger looks again before it gives up (half a day of waiting): runs
that never end (a conversation left open) must not keep it queued for ever."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ResolverTrigger:
    """A trigger to answer, as its job carries it."""

    key: str
    """The delivery it came in (its job key): the thread remembers the last one answered."""
    event: ThreadEvent
    kind: TriggerKind
    installation_id: str
    waited: int = 0
    """How many times it waited for a run on its repository to end (over the cap)."""

    def job(self, run_at: datetime | None = None) -> NewJob:
        event = self.event
        turn = f":turn-{self.waited}" if self.waited else ""
        return NewJob(
            kind=ANSWER_TRIGGER,
            key=f"resolver:{self.key[: 190 - len(turn)]}{turn}",
            retry=_RETRY,
            run_at=run_at,
            payload={
                "waited": self.waited,
                "key": self.key,
                "kind": self.kind.value,
                "installation": self.installation_id,
                "provider": event.thread.provider.value,
                "repository": event.thread.repository,
                "number": event.thread.number,
                "pull_request": event.thread.is_pull_request,
                "sender_id": event.sender.account_id,
                "sender_login": event.sender.login,
                "title": event.title[:_MAX_TEXT],
                "body": event.body[:_MAX_TEXT],
                "comment_id": event.comment_id,
                "comment_body": None
                if event.comment_body is None
                else event.comment_body[:_MAX_TEXT],
                "review": event.comment_is_review,
            },
        )

    @classmethod
    def of_job(cls, payload: dict[str, Any]) -> "ResolverTrigger":
        try:
            kind = TriggerKind(payload["kind"])
            thread = ThreadRef(
                provider=ProviderKind(payload["provider"]),
                repository=str(payload["repository"]),
                number=int(payload["number"]),
                is_pull_request=bool(payload["pull_request"]),
            )
            event = ThreadEvent(
                kind=ThreadEventKind.LABELED
                if kind is TriggerKind.LABEL
                else ThreadEventKind.COMMENTED,
                thread=thread,
                sender=EventSender(
                    account_id=str(payload["sender_id"]), login=str(payload["sender_login"])
                ),
                title=str(payload.get("title") or ""),
                body=str(payload.get("body") or ""),
                comment_id=None
                if payload.get("comment_id") is None
                else str(payload["comment_id"]),
                comment_body=None
                if payload.get("comment_body") is None
                else str(payload["comment_body"]),
                comment_is_review=bool(payload.get("review")),
            )
            return cls(
                key=str(payload["key"]),
                event=event,
                kind=kind,
                installation_id=str(payload["installation"]),
                waited=int(payload.get("waited") or 0),
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise PermanentJobError(f"the job names no trigger: {exc}") from exc


def prompt_of(trigger: ResolverTrigger, address: str) -> str:
    """The first message of a resolver conversation: the issue or pull request (at
    ``address``), and what was asked of the agent in it."""
    event = trigger.event
    thread = event.thread
    what = _what(thread)
    lines = [
        f"You were asked to work on {what} #{thread.number} of {thread.repository} ({address}).",
        "",
        f"Title: {event.title}",
        "",
        event.body.strip() or "(no description)",
    ]
    if event.comment_body is not None:
        lines += ["", f"@{event.sender.login} asked in a comment:", "", event.comment_body.strip()]
    else:
        lines += ["", f"@{event.sender.login} labeled it for you to resolve."]
    against = f" against this {what}'s branch" if thread.is_pull_request else ""
    request = "merge request" if thread.provider is ProviderKind.GITLAB else "pull request"
    lines += [
        "",
        (
            "Resolve it in the repository. When you change code, commit it on a new branch, "
            f"push it and open a {request}{against}. End with a short summary of what you "
            f"did, with the {request}'s address."
        ),
    ]
    return "\n".join(lines)


def _what(thread: ThreadRef) -> str:
    if not thread.is_pull_request:
        return "issue"
    return "merge request" if thread.provider is ProviderKind.GITLAB else "pull request"


class AnswerTrigger(JobHandler):
    """Answer one trigger, acting with the installation's token (GitHub) or the token of the
    user who enabled the repository (GitLab, Bitbucket): the sender must have write access to
    the repository (asked of the provider; at GitLab the Developer role or more), the trigger
    is marked seen (eyes; Bitbucket has no reactions), the sender must be one of our users (by
    the provider account their sign-in or connection proved, never by email or login name;
    else they are asked in the thread to sign in), and a member of the organization that
    linked the installation or enabled the repository. Then a conversation on the repository
    (a pull request's own branch) starts as that user with the issue and the request, and the
    thread is told with a link; a thread that has a conversation already sends it the request
    instead (one run per issue at a time: the conversation takes it as its next message). A
    new conversation over the organization's cap of runs at once on the repository waits: the
    trigger is queued again for a little later, the thread told once that it waits; after half
    a day of waiting it gives up and says so in the thread (asked again, it starts afresh).

    Safe to run again: the thread remembers the last trigger it took, so a retried job starts
    or sends nothing twice; a conversation whose worker died before its thread was kept is
    found again by its origin and adopted. A reply that ends a trigger early (sign in, not a
    member) is written again only if the worker died between writing it and finishing."""

    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        apps: GitApps,
        credentials: ThreadCredentials,
        locks: Locks,
        start: StartConversation,
        send: SendMessage,
        links: ResolverLinks,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._apps = apps
        self._credentials = credentials
        self._locks = locks
        self._start = start
        self._send = send
        self._links = links

    async def handle(self, job: Job) -> None:
        trigger = ResolverTrigger.of_job(dict(job.payload))
        thread = trigger.event.thread
        acting = await self._credentials.acting(thread.provider, trigger.installation_id)
        if acting is None:
            _log.info("trigger on %s ignored: nobody acts for it here", thread.key)
            return
        try:
            await self._answer_as(trigger, acting)
        except ProviderReconnectRequiredError:
            await self._credentials.refused(acting)
            raise DependencyUnavailableError(
                f"{thread.provider.value} refused the token that acts for {thread.repository}; "
                "an app's is minted anew for the next attempt."
            ) from None

    async def _answer_as(self, trigger: ResolverTrigger, acting: ActingToken) -> None:
        thread = trigger.event.thread
        threads = self._apps.threads(acting.host, acting.token)
        sender = trigger.event.sender
        permission = await threads.permission(thread.repository, sender)
        if not permission.can_write:
            _log.info("trigger on %s ignored: %s may only %s", thread.key, sender.login, permission)
            return
        await threads.react(
            thread, trigger.event.comment_id, review=trigger.event.comment_is_review
        )
        user_id = await self._uow.git_identities.user_of(thread.provider, sender.account_id)
        user = None if user_id is None else await self._uow.users.get(user_id)
        if user is None:
            await threads.comment(
                thread,
                f"@{sender.login} I can start once you have signed in to Maestrist with this "
                f"{thread.provider.value.capitalize()} account: {self._links.sign_in_url}. "
                "Then ask me again.",
            )
            return
        org = await self._uow.orgs.get_for_member(acting.org_id, user.id_)
        if org is None:
            await threads.comment(
                thread,
                f"@{sender.login} you are not a member of the organization this app works "
                "for; ask one of its admins to invite you, then ask me again.",
            )
            return
        actor = Principal(user=user, method=AuthMethod.WEBHOOK, bound_org_id=org.organization.id_)
        await self._uow.rollback()  # nothing written: read the thread afresh under its lock
        lock = f"resolver-thread:{thread.key}"
        async with self._locks.hold(lock, ttl=_THREAD_LOCK_TTL, wait=_THREAD_LOCK_WAIT):
            await self._answer(trigger, threads, actor, org, acting)

    async def _answer(
        self,
        trigger: ResolverTrigger,
        threads: IssueThreads,
        actor: Principal,
        org: MemberOrganization,
        acting: ActingToken,
    ) -> None:
        thread = trigger.event.thread
        url = self._links.thread_url(thread, acting.web_url)
        kept = await self._uow.resolver_threads.get(thread)
        if kept is None:
            kept = await self._adopt(trigger, actor, org, url)
        if kept is not None and kept.last_trigger == trigger.key:
            if not kept.acknowledged:
                await self._acknowledge(kept, threads)
            return
        if kept is not None and await self._follow(kept, trigger, threads):
            return
        cap = await self._cap_reached(thread, org)
        if cap is not None:
            await self._wait_turn(trigger, threads, cap)
            return
        if kept is not None:
            await self._uow.resolver_threads.delete(thread)
        branch = await threads.head_branch(thread) if thread.is_pull_request else None
        try:
            started = await self._start.execute(
                StartConversationRequest(
                    actor=actor,
                    org=org,
                    repository=thread.repository,
                    branch=branch,
                    git_provider=thread.provider.value,
                    message=prompt_of(trigger, url),
                    title=f"{thread.repository}#{thread.number}: {trigger.event.title}"[:200],
                    wait=False,
                    trigger=ConversationTrigger.of_provider(thread.provider),
                    origin_url=url,
                    callbacks=(RESOLVER_REPLY_CALLBACK,),
                )
            )
        except DomainError as exc:
            await threads.comment(
                thread, f"@{trigger.event.sender.login} I could not start: {exc.message}"
            )
            return
        now = self._clock.now()
        answered = ResolverThread(
            thread=thread,
            org_id=org.organization.id_,
            user_id=actor.user.id_,
            installation_id=trigger.installation_id,
            conversation_id=ConversationId(started.conversation.id_),
            last_trigger=trigger.key,
            created_at=now,
            updated_at=now,
        )
        await self._uow.resolver_threads.add(answered)
        await self._uow.commit()
        await self._acknowledge(answered, threads)

    async def _cap_reached(self, thread: ThreadRef, org: MemberOrganization) -> int | None:
        """The organization's cap of resolver runs at once on the repository when the
        conversations of its other threads that have not ended reach it, else None."""
        settings = await self._uow.resolver_settings.get(org.organization.id_)
        cap = None if settings is None else settings.max_runs_per_repository
        if cap is None:
            return None
        running = 0
        for other in await self._uow.resolver_threads.list_for_repository(
            thread.provider, thread.repository
        ):
            if other.thread == thread or other.org_id != org.organization.id_:
                continue
            conversation = await self._uow.conversations.get_for_owner(other.conversation_id)
            if conversation is not None and not conversation.status.ended:
                running += 1
        return cap if running >= cap else None

    async def _wait_turn(self, trigger: ResolverTrigger, threads: IssueThreads, cap: int) -> None:
        """Queue the trigger again for a little later, telling the thread the first time; past
        ``MAX_TURNS`` it gives up instead, and says so. The note follows the commit, so a job
        retried because the note failed writes it then, and one that wrote it does not."""
        thread = trigger.event.thread
        login = trigger.event.sender.login
        runs = "run" if cap == 1 else "runs"
        if trigger.waited >= MAX_TURNS:
            _log.info("trigger on %s gave up waiting its turn", thread.key)
            await threads.comment(
                thread,
                f"@{login} I gave up waiting: this repository kept its {cap} {runs} at once "
                "going for half a day. Ask me again once one of them has ended.",
            )
            return
        later = replace(trigger, waited=trigger.waited + 1)
        now = self._clock.now()
        await self._uow.jobs.enqueue(later.job(run_at=now + _TURN_WAIT), now)
        await self._uow.commit()
        _log.info("trigger on %s waits its turn (%d)", thread.key, later.waited)
        if trigger.waited == 0:
            await threads.comment(
                thread,
                f"@{login} this repository has its {cap} {runs} at once going already; "
                "I will start as soon as one of them ends.",
            )

    async def _adopt(
        self,
        trigger: ResolverTrigger,
        actor: Principal,
        org: MemberOrganization,
        url: str,
    ) -> ResolverThread | None:
        """The thread of a conversation this trigger started before its worker died, before
        the thread was kept: found by its origin (``url``) among the sender's newest
        conversations."""
        thread = trigger.event.thread
        page = await self._uow.conversations.search(
            Tenant(org.organization.id_, actor.user.id_),
            ConversationFilter(
                repository=thread.repository,
                triggers=frozenset({ConversationTrigger.of_provider(thread.provider)}),
            ),
            limit=20,
        )
        for conversation in page.items:
            if conversation.origin_url != url:
                continue
            if await self._uow.resolver_threads.for_conversation(conversation.id_) is not None:
                continue
            now = self._clock.now()
            adopted = ResolverThread(
                thread=thread,
                org_id=org.organization.id_,
                user_id=actor.user.id_,
                installation_id=trigger.installation_id,
                conversation_id=conversation.id_,
                last_trigger=trigger.key,
                created_at=now,
                updated_at=now,
            )
            if await self._uow.resolver_threads.add(adopted):
                await self._uow.commit()
                return adopted
        return None

    async def _follow(
        self, kept: ResolverThread, trigger: ResolverTrigger, threads: IssueThreads
    ) -> bool:
        """Send a later trigger to the thread's conversation, as its owner (the sender may be
        another member with write access); False when the conversation or its owner's
        membership is gone, and a new one must start."""
        conversation = await self._uow.conversations.get_for_owner(kept.conversation_id)
        owner = await self._uow.users.get(kept.user_id)
        owner_org = await self._uow.orgs.get_for_member(kept.org_id, kept.user_id)
        if conversation is None or owner is None or owner_org is None:
            return False
        kept.last_trigger = trigger.key
        kept.acknowledged = True
        kept.updated_at = self._clock.now()
        await self._uow.resolver_threads.save(kept)
        try:
            await self._send.execute(
                SendMessageRequest(
                    actor=Principal(
                        user=owner, method=AuthMethod.WEBHOOK, bound_org_id=kept.org_id
                    ),
                    org=owner_org,
                    conversation_id=conversation.id_,
                    text=_follow_up(trigger),
                )
            )
        except DomainError as exc:
            await self._uow.rollback()
            await threads.comment(
                trigger.event.thread,
                f"@{trigger.event.sender.login} the conversation did not take it: {exc.message}",
            )
        return True

    async def _acknowledge(self, thread: ResolverThread, threads: IssueThreads) -> None:
        link = self._links.conversation_url(thread.conversation_id)
        await threads.comment(thread.thread, f"I'm on it! Follow my progress here: {link}")
        thread.acknowledged = True
        thread.updated_at = self._clock.now()
        await self._uow.resolver_threads.save(thread)
        await self._uow.commit()


def _follow_up(trigger: ResolverTrigger) -> str:
    event = trigger.event
    text = event.comment_body if event.comment_body is not None else "(labeled again)"
    return f"@{event.sender.login} asked in the {event.thread.provider.value} thread:\n\n{text}"
