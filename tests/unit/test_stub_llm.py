"""The stub LLM the end-to-end tests script: a slow reply released before the agent asked for
it answers at once, so a test that releases it on seeing the step before cannot race the
agent's next request."""

import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from adapters.scripted import Finish, Slow
from tests.support.polling import until_sync
from tests.support.stub_llm import StubLLM, run_stub_llm

HOLD_S = 600.0
"""Far longer than any answer waits here: a reply held this long fails its request."""
ANSWER_S = 60.0
TOOLS = [{"type": "function", "function": {"name": "finish"}}]


@pytest.fixture
def stub() -> Iterator[StubLLM]:
    with run_stub_llm() as llm:
        yield llm


def _ask(stub: StubLLM) -> dict[str, Any]:
    body = {"model": "stub", "messages": [{"role": "user", "content": "go"}], "tools": TOOLS}
    answer = httpx.post(f"{stub.base_url}/chat/completions", json=body, timeout=ANSWER_S)
    answer.raise_for_status()
    result: dict[str, Any] = answer.json()
    return result


def _said(answer: dict[str, Any]) -> str:
    return str(answer["choices"][0]["message"])


def test_a_slow_reply_released_before_it_is_asked_for_answers_at_once(stub: StubLLM) -> None:
    stub.script(Slow(seconds=HOLD_S, then=Finish(message="early")), Finish(message="next"))
    stub.release()  # the agent has not asked yet

    assert "early" in _said(_ask(stub))  # held, it would time out
    assert "next" in _said(_ask(stub))


def test_a_release_lets_the_reply_in_progress_answer_and_leaves_the_next_one_slow(
    stub: StubLLM,
) -> None:
    stub.script(
        Slow(seconds=HOLD_S, then=Finish(message="first")),
        Slow(seconds=HOLD_S, then=Finish(message="second")),
    )
    answers: list[dict[str, Any]] = []
    asking = threading.Thread(target=lambda: answers.append(_ask(stub)))
    asking.start()
    until_sync(lambda: stub.holding, "a slow reply held", timeout_s=ANSWER_S)

    stub.release()
    asking.join(ANSWER_S)

    assert "first" in _said(answers[0])
    assert stub.holding == 0
    second = threading.Thread(target=lambda: answers.append(_ask(stub)))
    second.start()
    until_sync(lambda: stub.holding, "a slow reply held", timeout_s=ANSWER_S)
    assert len(answers) == 1  # the second is held: the release was spent on the first
    stub.release()
    second.join(ANSWER_S)
    assert "second" in _said(answers[1])
