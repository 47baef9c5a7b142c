"""The agent-server's event JSON (samples as agent-server 1.58 logs them) read into neutral
events: usage, a hard stop, why a run failed, and a payload with no credential left in it."""

import json
from typing import Any
from uuid import uuid4

from adapters.openhands import AgentServerRuntime, ExternalHost
from adapters.openhands.events import to_runtime_event
from adapters.openhands.redaction import REDACTED
from domain.conversations import ConversationId, EventType, RuntimeStatus, Usage
from domain.conversations.entities import StoredEvent

CID = ConversationId(uuid4())

STATS = json.loads(
    """{"id": "6f440129-ef67-4ff8-b2b8-bd68010b7e39", "timestamp": "2026-12-05T16:22:14.576852",
    "source": "environment", "parent_id": "f82d70a7-2e5a-4bb2-a05d-a79e3179b1bf",
    "key": "stats", "value": {"usage_to_metrics": {"agent": {"model_name": "openai/stub-model",
    "accumulated_cost": 0.0, "max_budget_per_task": null, "accumulated_token_usage": {
    "model": "openai/stub-model", "prompt_tokens": 10, "completion_tokens": 5,
    "cache_read_tokens": 0, "cache_write_tokens": 0, "reasoning_tokens": 0,
    "context_window": 0, "per_turn_token": 15, "response_id": ""}}}},
    "kind": "ConversationStateUpdateEvent"}"""
)


def _metrics(model: str, cost: float, prompt: int, completion: int, cached: int) -> Any:
    return {
        "model_name": model,
        "accumulated_cost": cost,
        "max_budget_per_task": None,
        "accumulated_token_usage": {
            "model": model,
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "cache_read_tokens": cached,
            "cache_write_tokens": 1,
            "reasoning_tokens": 0,
            "context_window": 0,
            "per_turn_token": prompt + completion,
            "response_id": "",
        },
    }


def test_a_stats_update_reports_usage_and_keeps_its_json() -> None:
    event = to_runtime_event(CID, STATS)
    assert event.usage == Usage(
        input_tokens=10,
        output_tokens=5,
        cache_read_tokens=0,
        cache_write_tokens=0,
        cost_usd=0.0,
        model="openai/stub-model",
    )
    assert event.type is EventType.STATUS
    assert event.status is None
    assert (event.terminal, event.interrupted) == (False, False)
    assert event.failure is None
    assert event.payload == STATS


def test_usage_is_summed_over_the_conversation_llms() -> None:
    raw = {
        **STATS,
        "value": {
            "usage_to_metrics": {
                "agent": _metrics("openai/big", 0.5, 100, 20, 40),
                "condenser": _metrics("openai/small", 0.25, 10, 2, 3),
            }
        },
    }
    assert to_runtime_event(CID, raw).usage == Usage(
        input_tokens=110,
        output_tokens=22,
        cache_read_tokens=43,
        cache_write_tokens=2,
        cost_usd=0.75,
        model="openai/big",
    )
    snapshot = {**raw, "key": "full_state", "value": {"stats": raw["value"]}}
    assert to_runtime_event(CID, snapshot).usage == to_runtime_event(CID, raw).usage


def test_events_without_usage_or_with_unreadable_usage_report_none() -> None:
    assert to_runtime_event(CID, {**STATS, "value": "odd"}).usage is None
    odd = {"usage_to_metrics": {"agent": {"accumulated_cost": "free"}}}
    assert to_runtime_event(CID, {**STATS, "value": odd}).usage is None
    status = {**STATS, "key": "execution_status", "value": "running"}
    assert to_runtime_event(CID, status).usage is None
    message = {"id": "m", "kind": "MessageEvent", "source": "user", "llm_message": {}}
    assert to_runtime_event(CID, message).usage is None


def test_an_interrupt_is_a_hard_stop() -> None:
    raw = {
        "id": "i1",
        "timestamp": "2026-12-05T16:22:15.000001",
        "source": "user",
        "reason": "User requested interrupt",
        "kind": "InterruptEvent",
    }
    event = to_runtime_event(CID, raw)
    assert event.interrupted
    assert (event.type, event.status, event.failure) == (EventType.STATUS, None, None)
    paused = {**STATS, "key": "execution_status", "value": "paused"}
    assert not to_runtime_event(CID, paused).interrupted
    assert not to_runtime_event(CID, {**raw, "kind": "PauseEvent"}).interrupted


def test_a_conversation_error_says_why_the_run_failed() -> None:
    raw = {
        "id": "x1",
        "timestamp": "2026-12-05T16:22:15.000001",
        "source": "environment",
        "code": "LLMAuthenticationError",
        "detail": "Your LLM API key appears to be invalid or has expired.",
        "kind": "ConversationErrorEvent",
    }
    event = to_runtime_event(CID, raw)
    assert event.type is EventType.ERROR
    assert event.failure == (
        "LLMAuthenticationError: Your LLM API key appears to be invalid or has expired."
    )
    assert to_runtime_event(CID, {**raw, "detail": "  "}).failure == "LLMAuthenticationError"
    assert to_runtime_event(CID, {**raw, "code": None}).failure == raw["detail"]
    assert to_runtime_event(CID, {**raw, "code": "", "detail": None}).failure is None
    assert to_runtime_event(CID, {**raw, "kind": "AgentErrorEvent"}).failure is None


def test_a_finished_status_ends_the_run() -> None:
    raw = {**STATS, "key": "execution_status", "value": "finished"}
    event = to_runtime_event(CID, raw)
    assert (event.status, event.terminal, event.usage) == (RuntimeStatus.FINISHED, True, None)


def test_credentials_the_runtime_echoes_are_redacted_from_the_payload() -> None:
    raw = {
        "id": "s1",
        "timestamp": "2026-12-05T16:22:15.000001",
        "source": "environment",
        "key": "full_state",
        "value": {
            "agent": {"llm": {"model": "m", "api_key": "sk-live", "usage_id": "agent"}},
            "secret_registry": {
                "secret_sources": {
                    "NPM_TOKEN": {"value": "npm-secret", "kind": "StaticSecret"},
                    "GITHUB_TOKEN": {
                        "url": "https://m.example/api/runtime/git-token",
                        "headers": {"X-Access-Token": "grant", "Accept": "text/plain"},
                        "kind": "LookupSecret",
                    },
                }
            },
            "stats": {"usage_to_metrics": {"agent": _metrics("m", 0.1, 3, 1, 0)}},
            "tokens_note": ["kept"],
        },
        "kind": "ConversationStateUpdateEvent",
    }
    event = to_runtime_event(CID, raw)
    text = json.dumps(dict(event.payload))
    for secret in ("sk-live", "npm-secret", "grant"):
        assert secret not in text
    kept = event.payload["value"]
    assert kept["agent"]["llm"]["api_key"] == REDACTED
    assert kept["agent"]["llm"]["model"] == "m"
    sources = kept["secret_registry"]["secret_sources"]
    assert sources["NPM_TOKEN"] == {"value": REDACTED, "kind": "StaticSecret"}
    assert sources["GITHUB_TOKEN"]["url"] == "https://m.example/api/runtime/git-token"
    assert sources["GITHUB_TOKEN"]["headers"] == {
        "X-Access-Token": REDACTED,
        "Accept": "text/plain",
    }
    assert kept["tokens_note"] == ["kept"]
    assert event.usage is not None
    assert event.usage.input_tokens == 3
    message = {"id": "m", "kind": "MessageEvent", "message": "my api_key is in the text"}
    assert to_runtime_event(CID, message).payload == message


USER_MESSAGE = json.loads(
    """{"id": "f82d70a7-2e5a-4bb2-a05d-a79e3179b1bf", "timestamp": "2026-12-05T16:22:13.913043",
    "source": "user", "parent_id": "757b0fe8-e842-40a0-811d-5b2e4938ef7e",
    "llm_message": {"role": "user", "content": [{"cache_prompt": false, "type": "image",
    "image_urls": ["https://i.example/a.png"]}, {"cache_prompt": false, "type": "text",
    "text": "Fix the flaky test"}], "thinking_blocks": []}, "activated_skills": [],
    "extended_content": [], "kind": "MessageEvent"}"""
)


def _stored(raw: Any) -> StoredEvent:
    event = to_runtime_event(CID, raw)
    return StoredEvent(
        conversation_id=CID,
        seq=1,
        event_id=event.event_id,
        kind=event.kind,
        source=event.source,
        type=event.type,
        occurred_at=event.occurred_at,
        payload=event.payload,
    )


def test_a_user_message_reads_as_its_first_text() -> None:
    runtime = AgentServerRuntime(ExternalHost("http://127.0.0.1:9", "key"))
    assert runtime.message_text(_stored(USER_MESSAGE)) == "Fix the flaky test"
    assert runtime.message_text(_stored({**USER_MESSAGE, "source": "agent"})) is None
    assert runtime.message_text(_stored({**USER_MESSAGE, "llm_message": "odd"})) is None
    assert runtime.message_text(_stored(STATS)) is None
