"""An in-process conversation runtime that plays scripted LLM answers and speaks the event
vocabulary of the OpenHands agent-server 1.58: the same kinds, in the same order, with the same
status events, read into neutral events by the OpenHands adapter's own reader. For unit tests
and for running the server with no LLM."""

import asyncio
import contextlib
import itertools
import json
import re
import uuid
from collections import deque
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from adapters.openhands.events import message_text, reply_text, to_runtime_event
from adapters.openhands.payloads import content
from adapters.scripted.script import Fail, Finish, Reply, Slow, Step, ToolCall
from application.errors import RuntimeAuthRefusedError
from application.ports.conversation_runtime import ConversationRuntime, StartProgress
from application.tasks import cancel_and_wait
from domain.conversations.entities import StoredEvent
from domain.conversations.errors import RuntimeConversationNotFoundError
from domain.conversations.value_objects import (
    ConfirmationMode,
    ConversationId,
    GitAccess,
    MessagePart,
    RuntimeEvent,
    RuntimeStatus,
    StartPhase,
    StartSpec,
    TextPart,
)
from domain.shared.errors import InvalidValueError

__all__ = ("BURST_MAX", "SCRIPTED_TOOLS", "ScriptedRuntime", "ScriptedWorld")

SCRIPTED_TOOLS = frozenset(
    {"terminal", "file_editor", "task_tracker", "glob", "grep", "browser_tool_set"}
)


BURST_MAX = 100_000
"""Events one ``/burst`` message may ask for."""
_BURST = re.compile(r"/burst\s+(\d{1,6})(?:\s+(\d{1,5}))?\s*")
_BURST_YIELD_EVERY = 50


@dataclass(frozen=True, slots=True)
class _Burst:
    """A run that answers with ``count`` agent messages of ``size`` characters each."""

    count: int
    size: int


def _burst(parts: Sequence[MessagePart]) -> _Burst | None:
    """``/burst N`` (or ``/burst N SIZE``) as a message's whole text asks the scripted runtime
    for a run of N agent messages, SIZE characters each (64 unless given): a load generator
    for the live feed, for demos and benchmarks."""
    text = "".join(part.text for part in parts if isinstance(part, TextPart)).strip()
    found = _BURST.fullmatch(text)
    if found is None:
        return None
    count, size = int(found[1]), int(found[2] or 64)
    if not 1 <= count <= BURST_MAX:
        raise InvalidValueError(f"A burst is 1 to {BURST_MAX} events.", field="text")
    if not 1 <= size <= 65_536:
        raise InvalidValueError("A burst's messages are 1 to 65536 characters.", field="text")
    return _Burst(count, size)


_SPEND = re.compile(r"/spend\s+(\d{1,4}(?:\.\d{1,6})?)\s+(\d{1,4})\s*")
SPEND_STEP_S = 0.1
"""How long each answer of a ``/spend`` run takes, as an LLM call would."""


@dataclass(frozen=True, slots=True)
class _Spend:
    """A run of ``steps`` answers that together cost ``usd``."""

    usd: float
    steps: int


def _spend(parts: Sequence[MessagePart]) -> _Spend | None:
    """``/spend USD STEPS`` as a message's whole text asks the scripted runtime for a run of
    STEPS answers, a tenth of a second apart, each reporting its share of USD as spent: what
    billing and budgets see of a working agent, without an LLM."""
    text = "".join(part.text for part in parts if isinstance(part, TextPart)).strip()
    found = _SPEND.fullmatch(text)
    if found is None:
        return None
    usd, steps = float(found[1]), int(found[2])
    if not 0 < usd <= 1000 or not 1 <= steps <= 1000:
        raise InvalidValueError(
            "Spend more than 0 and at most 1000 USD over 1 to 1000 steps.", field="text"
        )
    return _Spend(usd, steps)


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[_\W]+", name) if part)


@dataclass(eq=False)
class _Conversation:
    spec: StartSpec
    status: RuntimeStatus = RuntimeStatus.IDLE
    log: list[RuntimeEvent] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None
    pending_action: RuntimeEvent | None = None
    pause_requested: bool = False
    deleted: bool = False
    prompted: bool = False
    burst: _Burst | None = None
    spend: _Spend | None = None
    spent: float = 0.0


class ScriptedWorld:
    """What outlives one runtime object: conversations, the queue of scripted LLM answers and
    the session key the runtime accepts. Two runtimes on one world are a restart."""

    def __init__(
        self,
        *,
        session_key: str = "scripted",
        default: Step | None = None,
        cost_per_step: float = 0.0,
    ) -> None:
        self.session_key = session_key
        self.cost_per_step = cost_per_step
        """What each scripted LLM answer costs, in USD (the stub's cost nothing)."""
        self.default: Step = default or Finish()
        self.steps: deque[Step] = deque()
        self.conversations: dict[ConversationId, _Conversation] = {}
        self.released = asyncio.Event()
        self.calls = 0

    def script(self, *steps: Step) -> None:
        self.steps.extend(steps)

    def release(self) -> None:
        """Let every slow step in progress answer now."""
        self.released.set()
        self.released = asyncio.Event()

    def reset(self) -> None:
        self.steps.clear()
        self.release()

    async def settled(self) -> None:
        """Wait until no run is in progress: each has finished, stopped at a pause or waits
        for the user."""
        tasks = [c.task for c in self.conversations.values() if c.task and not c.task.done()]
        if tasks:
            await asyncio.wait(tasks)

    async def aclose(self) -> None:
        """Cancel every run in progress: the world ends with the process."""
        await cancel_and_wait(*(c.task for c in self.conversations.values() if c.task))

    def next_step(self) -> Step:
        self.calls += 1
        return self.steps.popleft() if self.steps else self.default


class ScriptedRuntime(ConversationRuntime):
    def __init__(self, world: ScriptedWorld | None = None, *, session_key: str | None = None):
        self._world = world or ScriptedWorld()
        self._key = self._world.session_key if session_key is None else session_key
        self._ids = itertools.count()

    @property
    def world(self) -> ScriptedWorld:
        return self._world

    def _conversation(self, conversation_id: ConversationId) -> _Conversation:
        if self._key != self._world.session_key:
            raise RuntimeAuthRefusedError
        found = self._world.conversations.get(conversation_id)
        if found is None or found.deleted:
            raise RuntimeConversationNotFoundError(conversation_id)
        return found

    def _emit(
        self,
        conversation: _Conversation,
        kind: str,
        source: str,
        **fields: Any,
    ) -> RuntimeEvent:
        payload = {
            "id": str(uuid.uuid4()),
            "timestamp": datetime.now().isoformat(),  # noqa: DTZ005  # server-local, as there
            "source": source,
            **fields,
            "kind": kind,
        }
        if conversation.log:
            payload.setdefault("parent_id", conversation.log[-1].event_id)
        event = to_runtime_event(conversation.spec.conversation_id, json.loads(json.dumps(payload)))
        if event.status is not None:
            conversation.status = event.status
        conversation.log.append(event)
        conversation.changed.set()
        conversation.changed = asyncio.Event()
        return event

    def _status(self, conversation: _Conversation, status: RuntimeStatus) -> None:
        self._emit(
            conversation,
            "ConversationStateUpdateEvent",
            "environment",
            key="execution_status",
            value=status.value,
        )

    async def start(self, spec: StartSpec, progress: StartProgress | None = None) -> RuntimeStatus:
        if self._key != self._world.session_key:
            raise RuntimeAuthRefusedError
        unknown = sorted(set(spec.tools) - SCRIPTED_TOOLS)
        if unknown:
            raise InvalidValueError(
                f"The agent runtime has no tool named {', '.join(unknown)}.", field="tools"
            )
        existing = self._world.conversations.get(spec.conversation_id)
        if existing is not None and not existing.deleted:
            return existing.status
        if spec.parent_id is not None:
            parent = self._conversation(spec.parent_id)
            if parent.spec.workspace_dir != spec.workspace_dir:
                raise InvalidValueError(
                    "A child conversation runs on its parent's workspace.", field="workspace_dir"
                )
        self._world.conversations[spec.conversation_id] = _Conversation(spec=spec)
        if progress is not None:
            await progress(StartPhase.READY)
        return RuntimeStatus.IDLE

    async def renew_git_access(self, conversation_id: ConversationId, git: GitAccess) -> None:
        conversation = self._conversation(conversation_id)
        conversation.spec = replace(conversation.spec, git=git)

    async def send_message(
        self, conversation_id: ConversationId, parts: Sequence[MessagePart], *, run: bool = True
    ) -> None:
        conversation = self._conversation(conversation_id)
        if not parts:
            raise InvalidValueError("A message needs at least one part.", field="parts")
        burst, spend = _burst(parts), _spend(parts)
        if not conversation.prompted:
            conversation.prompted = True
            tools = [{"title": name} for name in ("finish", "think", *conversation.spec.tools)]
            self._emit(conversation, "SystemPromptEvent", "agent", tools=tools)
        message = self._emit(
            conversation,
            "MessageEvent",
            "user",
            llm_message={"role": "user", "content": content(parts)},
        )
        self._emit(
            conversation,
            "ConversationStateUpdateEvent",
            "environment",
            key="last_user_message_id",
            value=message.event_id,
        )
        if burst is not None:
            conversation.burst = burst
        if spend is not None:
            conversation.spend = spend
        if run and not self._running(conversation):
            self._launch(conversation)

    def _running(self, conversation: _Conversation) -> bool:
        return conversation.task is not None and not conversation.task.done()

    def _launch(self, conversation: _Conversation) -> None:
        conversation.pause_requested = False
        self._status(conversation, RuntimeStatus.RUNNING)
        conversation.task = asyncio.create_task(self._run(conversation))

    async def _run(self, conversation: _Conversation) -> None:
        burst, conversation.burst = conversation.burst, None
        if burst is not None:
            await self._play_burst(conversation, burst)
            return
        spend, conversation.spend = conversation.spend, None
        if spend is not None:
            await self._play_spend(conversation, spend)
            return
        while True:
            step = self._world.next_step()
            if isinstance(step, Slow):
                released = self._world.released
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(released.wait(), timeout=step.seconds)
                step = step.then
            self._emit_usage(conversation)
            if not self._play(conversation, step):
                return
            if conversation.pause_requested:
                return

    def _emit_usage(self, conversation: _Conversation, cost: float | None = None) -> None:
        """Report the usage so far, one more LLM answer (of ``cost``, else the world's cost
        per step) included."""
        conversation.spent += self._world.cost_per_step if cost is None else cost
        metrics = _metrics(conversation.spec.model, conversation.spent)
        self._emit(
            conversation,
            "ConversationStateUpdateEvent",
            "environment",
            key="stats",
            value={"usage_to_metrics": {"agent": metrics}},
        )

    async def _play_spend(self, conversation: _Conversation, spend: _Spend) -> None:
        """Answer ``spend.steps`` times, each answer reporting its share of the cost, then
        finish; a pause ends it early."""
        for number in range(1, spend.steps + 1):
            await asyncio.sleep(SPEND_STEP_S)
            if conversation.pause_requested:
                return
            self._emit_usage(conversation, spend.usd / spend.steps)
            text = f"step {number}/{spend.steps}"
            self._emit(
                conversation,
                "MessageEvent",
                "agent",
                llm_message={"role": "assistant", "content": [{"type": "text", "text": text}]},
            )
        self._status(conversation, RuntimeStatus.FINISHED)

    async def _play_burst(self, conversation: _Conversation, burst: _Burst) -> None:
        """Answer with ``burst.count`` agent messages back to back (letting the server store
        and send them every few dozen), then finish; a pause ends it early."""
        self._emit_usage(conversation)
        for number in range(1, burst.count + 1):
            label = f"burst {number}/{burst.count} "
            text = (label + "x" * burst.size)[: burst.size]
            self._emit(
                conversation,
                "MessageEvent",
                "agent",
                llm_message={"role": "assistant", "content": [{"type": "text", "text": text}]},
            )
            if number % _BURST_YIELD_EVERY == 0:
                await asyncio.sleep(0)
                if conversation.pause_requested:
                    return
        self._status(conversation, RuntimeStatus.FINISHED)

    def _play(self, conversation: _Conversation, step: Step) -> bool:
        """Play one answer; False when the run ends or waits."""
        if isinstance(step, Reply):
            self._emit(
                conversation,
                "MessageEvent",
                "agent",
                llm_message={"role": "assistant", "content": [{"type": "text", "text": step.text}]},
            )
            self._status(conversation, RuntimeStatus.FINISHED)
            return False
        if isinstance(step, Fail):  # the agent-server sets the status, then says why
            self._status(conversation, RuntimeStatus.ERROR)
            self._emit(
                conversation,
                "ConversationErrorEvent",
                "environment",
                code=step.code,
                detail=step.detail,
            )
            return False
        if isinstance(step, Finish):
            action = self._action(conversation, "finish", {"message": step.message})
            self._observe(conversation, action, step.message)
            self._status(conversation, RuntimeStatus.FINISHED)
            return False
        assert isinstance(step, ToolCall)
        action = self._action(conversation, step.tool, dict(step.arguments), output=step.output)
        if conversation.spec.confirmation is not ConfirmationMode.NEVER:
            conversation.pending_action = action
            self._status(conversation, RuntimeStatus.WAITING_FOR_CONFIRMATION)
            return False
        self._observe(conversation, action, step.output)
        return True

    def _action(
        self, conversation: _Conversation, tool: str, arguments: dict[str, Any], output: str = ""
    ) -> RuntimeEvent:
        call_id = f"call_{next(self._ids)}"
        return self._emit(
            conversation,
            "ActionEvent",
            "agent",
            thought=[],
            action={**arguments, "kind": f"{_camel(tool)}Action"},
            tool_name=tool,
            tool_call_id=call_id,
            tool_call={"id": call_id, "name": tool, "arguments": json.dumps(arguments)},
            security_risk="UNKNOWN",
            summary=f"{tool}: {json.dumps(arguments)}",
            scripted_output=output,
        )

    def _observe(self, conversation: _Conversation, action: RuntimeEvent, text: str) -> None:
        tool = str(action.payload["tool_name"])
        self._emit(
            conversation,
            "ObservationEvent",
            "environment",
            tool_name=tool,
            tool_call_id=action.payload["tool_call_id"],
            observation={
                "content": [{"type": "text", "text": text}],
                "is_error": False,
                "kind": f"{_camel(tool)}Observation",
            },
            action_id=action.event_id,
        )

    async def pause(self, conversation_id: ConversationId) -> None:
        conversation = self._conversation(conversation_id)
        conversation.pause_requested = True
        self._status(conversation, RuntimeStatus.PAUSED)
        self._emit(conversation, "PauseEvent", "user")

    async def resume(self, conversation_id: ConversationId) -> None:
        conversation = self._conversation(conversation_id)
        if self._running(conversation) or conversation.status is not RuntimeStatus.PAUSED:
            return
        self._launch(conversation)

    async def stop(self, conversation_id: ConversationId) -> None:
        conversation = self._conversation(conversation_id)
        await self._cancel(conversation)
        self._status(conversation, RuntimeStatus.PAUSED)
        self._emit(conversation, "InterruptEvent", "user", reason="User requested interrupt")

    async def _cancel(self, conversation: _Conversation) -> None:
        task, conversation.task = conversation.task, None
        if task is not None:
            await cancel_and_wait(task)

    async def get_status(self, conversation_id: ConversationId) -> RuntimeStatus:
        return self._conversation(conversation_id).status

    def message_text(self, event: StoredEvent) -> str | None:
        return message_text(event.kind, event.source, event.payload)

    def reply_text(self, event: StoredEvent) -> str | None:
        return reply_text(event.kind, event.source, event.payload)

    async def respond_to_confirmation(
        self, conversation_id: ConversationId, *, accept: bool, reason: str = ""
    ) -> None:
        conversation = self._conversation(conversation_id)
        action, conversation.pending_action = conversation.pending_action, None
        if action is None or conversation.status is not RuntimeStatus.WAITING_FOR_CONFIRMATION:
            return
        if not accept:
            self._status(conversation, RuntimeStatus.IDLE)
            self._emit(
                conversation,
                "UserRejectObservation",
                "environment",
                tool_name=action.payload["tool_name"],
                tool_call_id=action.payload["tool_call_id"],
                rejection_reason=reason or "User rejected the action",
                action_id=action.event_id,
            )
            return
        self._status(conversation, RuntimeStatus.RUNNING)
        self._observe(conversation, action, str(action.payload.get("scripted_output", "")))
        conversation.task = asyncio.create_task(self._run(conversation))

    async def delete(self, conversation_id: ConversationId) -> None:
        conversation = self._conversation(conversation_id)
        await self._cancel(conversation)
        conversation.deleted = True
        conversation.changed.set()
        del self._world.conversations[conversation_id]

    async def aclose(self) -> None:
        return None

    async def events(
        self, conversation_id: ConversationId, *, after: str | None = None
    ) -> AsyncGenerator[RuntimeEvent, None]:
        conversation = self._conversation(conversation_id)
        position = 0
        if after is not None:
            ids = [event.event_id for event in conversation.log]
            if after not in ids:
                raise InvalidValueError(f"No event {after!r} in this conversation.", field="after")
            position = ids.index(after) + 1
        while True:
            while position < len(conversation.log):
                position += 1
                yield conversation.log[position - 1]
            changed = conversation.changed
            await changed.wait()
            if conversation.deleted:
                raise RuntimeConversationNotFoundError(conversation_id)


def _metrics(model: str, spent: float) -> dict[str, Any]:
    """The agent's metrics snapshot: what the answers cost so far; they count no tokens."""
    tokens = dict.fromkeys(
        (
            "prompt_tokens",
            "completion_tokens",
            "cache_read_tokens",
            "cache_write_tokens",
            "reasoning_tokens",
            "context_window",
            "per_turn_token",
        ),
        0,
    )
    return {
        "model_name": model,
        "accumulated_cost": spent,
        "max_budget_per_task": None,
        "accumulated_token_usage": {"model": model, **tokens, "response_id": ""},
    }
