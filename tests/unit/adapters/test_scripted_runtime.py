import asyncio
from contextlib import aclosing
from pathlib import Path
from uuid import uuid4

import pytest

from adapters.scripted import Finish, ScriptedRuntime, ScriptedWorld, Slow, ToolCall
from domain.conversations import ConversationId, RuntimeEvent, RuntimeStatus, StartSpec, TextPart
from domain.shared.errors import InvalidValueError


def spec(tmp_path: Path, *tools: str) -> StartSpec:
    return StartSpec(
        conversation_id=ConversationId(uuid4()),
        model="scripted",
        workspace_dir=str(tmp_path),
        tools=tools,
    )


async def until(runtime: ScriptedRuntime, cid: ConversationId, kind: str) -> list[RuntimeEvent]:
    seen = []
    async with asyncio.timeout(5), aclosing(runtime.events(cid)) as stream:
        async for event in stream:
            seen.append(event)
            if event.kind == kind or event.terminal:
                return seen
    raise AssertionError


async def test_a_pause_lets_the_step_in_progress_finish_like_the_agent_server(
    tmp_path: Path,
) -> None:
    world = ScriptedWorld()
    sut = ScriptedRuntime(world)
    world.script(Slow(seconds=5, then=Finish(message="done anyway")))
    start = spec(tmp_path)
    await sut.start(start)
    await sut.send_message(start.conversation_id, [TextPart(text="go")])
    await asyncio.sleep(0)

    await sut.pause(start.conversation_id)
    assert await sut.get_status(start.conversation_id) is RuntimeStatus.PAUSED
    world.release()

    events = await until(sut, start.conversation_id, "never")
    kinds = [e.kind for e in events]
    assert kinds.index("PauseEvent") < kinds.index("ActionEvent")
    assert events[-1].status is RuntimeStatus.FINISHED


async def test_a_paused_run_resumes_where_it_stopped(tmp_path: Path) -> None:
    world = ScriptedWorld()
    sut = ScriptedRuntime(world)
    world.script(Slow(seconds=5, then=ToolCall(tool="terminal", output="hi")), Finish())
    start = spec(tmp_path, "terminal")
    await sut.start(start)
    await sut.send_message(start.conversation_id, [TextPart(text="go")])
    await asyncio.sleep(0)
    await sut.pause(start.conversation_id)
    world.release()
    await until(sut, start.conversation_id, "ObservationEvent")
    async with asyncio.timeout(5):
        await world.settled()
    assert await sut.get_status(start.conversation_id) is RuntimeStatus.PAUSED
    assert world.calls == 1, "the run went on to the next step after its pause"

    await sut.resume(start.conversation_id)

    events = await until(sut, start.conversation_id, "never")
    assert events[-1].status is RuntimeStatus.FINISHED
    await world.aclose()


async def test_unknown_tools_and_cursors_are_refused_by_field(tmp_path: Path) -> None:
    sut = ScriptedRuntime()
    with pytest.raises(InvalidValueError) as caught:
        await sut.start(spec(tmp_path, "TerminalTool"))
    assert caught.value.field == "tools"
    start = spec(tmp_path)
    await sut.start(start)
    with pytest.raises(InvalidValueError) as caught:
        await until_after(sut, start.conversation_id, "no-such-event")
    assert caught.value.field == "after"


async def until_after(runtime: ScriptedRuntime, cid: ConversationId, after: str) -> None:
    async with aclosing(runtime.events(cid, after=after)) as stream:
        async for _ in stream:
            return


async def test_a_burst_message_answers_with_that_many_agent_messages(tmp_path: Path) -> None:
    sut = ScriptedRuntime(ScriptedWorld())
    start = spec(tmp_path)
    await sut.start(start)
    await sut.send_message(start.conversation_id, [TextPart(text=" /burst 240 20 ")])

    events = await until(sut, start.conversation_id, "never")

    answers = [e for e in events if e.kind == "MessageEvent" and e.source == "agent"]
    assert len(answers) == 240
    texts = [e.payload["llm_message"]["content"][0]["text"] for e in answers]
    assert texts[0] == "burst 1/240 xxxxxxxx"
    assert all(len(text) == 20 for text in texts)
    assert texts[-1].startswith("burst 240/240")
    assert events[-1].status is RuntimeStatus.FINISHED
    assert await sut.get_status(start.conversation_id) is RuntimeStatus.FINISHED


async def test_a_burst_beyond_its_bounds_is_refused_and_other_text_is_a_message(
    tmp_path: Path,
) -> None:
    sut = ScriptedRuntime(ScriptedWorld())
    start = spec(tmp_path)
    await sut.start(start)
    with pytest.raises(InvalidValueError) as caught:
        await sut.send_message(start.conversation_id, [TextPart(text="/burst 100001")])
    assert caught.value.field == "text"
    await sut.send_message(start.conversation_id, [TextPart(text="please /burst 5")])
    events = await until(sut, start.conversation_id, "never")
    answers = [e for e in events if e.kind == "MessageEvent" and e.source == "agent"]
    assert answers == []  # the ordinary scripted answer (the finish tool), not a burst
    assert events[-1].status is RuntimeStatus.FINISHED


async def test_a_spend_message_reports_its_cost_step_by_step_and_a_pause_ends_it(
    tmp_path: Path,
) -> None:
    sut = ScriptedRuntime(ScriptedWorld())
    start = spec(tmp_path)
    await sut.start(start)
    await sut.send_message(start.conversation_id, [TextPart(text="/spend 0.3 3")])
    events = await until(sut, start.conversation_id, "never")
    costs = [e.usage.cost_usd for e in events if e.usage is not None]
    assert costs == pytest.approx([0.1, 0.2, 0.3])
    assert events[-1].status is RuntimeStatus.FINISHED

    world = ScriptedWorld()
    sut = ScriptedRuntime(world)
    other = spec(tmp_path)
    await sut.start(other)
    await sut.send_message(other.conversation_id, [TextPart(text="/spend 500 1000")])
    await sut.pause(other.conversation_id)
    async with asyncio.timeout(5):
        await world.settled()
    log = world.conversations[other.conversation_id].log
    assert [e.usage for e in log if e.usage is not None] == []  # ended before its first step
    assert await sut.get_status(other.conversation_id) is RuntimeStatus.PAUSED
    with pytest.raises(InvalidValueError):
        await sut.send_message(other.conversation_id, [TextPart(text="/spend 0 3")])
