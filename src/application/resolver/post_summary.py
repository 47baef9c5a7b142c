"""Answering in the thread when a resolver conversation's run ends: its summary, and the pull
requests it opened."""

import re
from datetime import timedelta
from uuid import UUID

from application.conversations.callbacks import CallbackProcessor, StateChange
from application.errors import DependencyUnavailableError
from application.jobs.handlers import JobHandler, PermanentJobError
from application.ports.clock import Clock
from application.ports.conversation_runtime import ConversationRuntime
from application.ports.git_app import GitApps
from application.ports.unit_of_work import UnitOfWork
from application.resolver.answer_trigger import RESOLVER_REPLY_CALLBACK
from application.resolver.credentials import ThreadCredentials
from application.resolver.links import ResolverLinks
from domain.conversations.entities import ConversationStatus, EventCallback
from domain.conversations.value_objects import ConversationId
from domain.git.errors import ProviderReconnectRequiredError
from domain.jobs.entities import Job, NewJob, RetryPolicy

__all__ = ("POST_SUMMARY", "PostResolverSummary", "ResolverReply")

POST_SUMMARY = "resolver.summary"
_RETRY = RetryPolicy(max_attempts=8, timeout=timedelta(minutes=2), backoff=timedelta(seconds=30))
_ENDED = {ConversationStatus.FINISHED, ConversationStatus.ERROR, ConversationStatus.STOPPED}
_PAGE = 500
_MAX_SUMMARY = 60_000


class ResolverReply(CallbackProcessor):
    """Each time a resolver conversation's run ends (finished, failed or stopped), enqueue the
    posting of its summary, in the transaction that recorded the change: once per run, and
    never lost. It stays active: a follow-up's run gets a summary too."""

    name = RESOLVER_REPLY_CALLBACK

    async def on_state_change(self, callback: EventCallback, change: StateChange) -> None:
        if change.conversation.status not in _ENDED or change.previous in _ENDED:
            return
        runs = int(str(callback.state.get("runs", 0))) + 1
        conversation_id = change.conversation.id_
        await change.tx.jobs.enqueue(
            NewJob(
                kind=POST_SUMMARY,
                key=f"resolver-summary:{conversation_id}:{runs}",
                payload={"conversation": str(conversation_id), "run": runs},
                retry=_RETRY,
            ),
            change.at,
        )
        callback.state = {**callback.state, "runs": runs}


def pull_request_urls(text: str, host_url: str, repository: str, path: str = "pull") -> list[str]:
    """The addresses of pull requests of ``repository`` that ``text`` names, in order; they
    live under ``path`` (GitHub's ``pull``, GitLab's ``-/merge_requests``)."""
    pattern = re.compile(
        rf"{re.escape(host_url)}/{re.escape(repository)}/{re.escape(path)}/\d+(?!\d)",
        re.IGNORECASE,
    )
    return list(dict.fromkeys(pattern.findall(text)))


class PostResolverSummary(JobHandler):
    """Post in the thread what the agent last said (its summary), with a link to the
    conversation and the pull requests it named; the thread keeps the pull requests, and how
    many summaries it got, so a retried job posts a run's summary once."""

    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        runtime: ConversationRuntime,
        apps: GitApps,
        credentials: ThreadCredentials,
        links: ResolverLinks,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._runtime = runtime
        self._apps = apps
        self._credentials = credentials
        self._links = links

    async def handle(self, job: Job) -> None:
        try:
            conversation_id = ConversationId(UUID(str(job.payload["conversation"])))
            run = int(str(job.payload["run"]))
        except (KeyError, ValueError) as exc:
            raise PermanentJobError(f"the job names no conversation: {exc}") from exc
        thread = await self._uow.resolver_threads.for_conversation(conversation_id)
        conversation = await self._uow.conversations.get_for_owner(conversation_id)
        if thread is None or conversation is None or thread.summaries_posted >= run:
            return
        provider = thread.thread.provider
        acting = await self._credentials.acting(provider, thread.installation_id)
        if acting is None:
            return
        summary = await self._last_reply(conversation_id)
        opened = pull_request_urls(
            summary or "",
            acting.web_url,
            thread.thread.repository,
            self._links.pull_request_path(provider),
        )
        link = self._links.conversation_url(conversation_id)
        if conversation.status is ConversationStatus.ERROR:
            reason = conversation.status_reason or "it failed"
            text = f"I stopped before finishing: {reason}\n\nThe conversation: {link}"
        elif summary:
            text = f"{summary[:_MAX_SUMMARY]}\n\n---\nThe conversation: {link}"
        else:
            text = f"I finished without a summary. The conversation: {link}"
        if opened:
            text += "\n\nPull requests: " + ", ".join(opened)
        try:
            await self._apps.threads(acting.host, acting.token).comment(thread.thread, text)
        except ProviderReconnectRequiredError:
            await self._credentials.refused(acting)
            raise DependencyUnavailableError(
                "The provider refused the token that acts for the thread; an app's is minted "
                "anew for the next attempt."
            ) from None
        thread.summaries_posted = run
        thread.pull_requests = tuple(dict.fromkeys((*thread.pull_requests, *opened)))
        thread.updated_at = self._clock.now()
        await self._uow.resolver_threads.save(thread)
        if opened:
            conversation.pull_requests = thread.pull_requests
            await self._uow.conversations.save(conversation)
        await self._uow.commit()

    async def _last_reply(self, conversation_id: ConversationId) -> str | None:
        last: str | None = None
        after = 0
        while True:
            events = await self._uow.events.list_after(conversation_id, after, _PAGE)
            for event in events:
                last = self._runtime.reply_text(event) or last
            if len(events) < _PAGE:
                return last
            after = events[-1].seq
