"""``cancel_and_wait`` ends tasks whose cancellation was lost, as Python 3.11's ``wait_for``
loses one, and gives up on a task that will not end only when told to."""

import asyncio

from application.tasks import cancel_and_wait


async def _loses_its_first_cancellation(cancelled: list[int]) -> None:
    """Swallows one cancellation (as ``wait_for`` does when its result arrives with it), then
    waits for ever."""
    try:
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        cancelled.append(1)
    await asyncio.Event().wait()


async def _ends_only_when_let(cancelled: list[int], let_end: asyncio.Event) -> None:
    while not let_end.is_set():
        try:
            await let_end.wait()
        except asyncio.CancelledError:
            cancelled.append(1)


async def test_a_task_that_lost_its_cancellation_is_cancelled_again_until_it_ends() -> None:
    cancelled: list[int] = []
    task = asyncio.create_task(_loses_its_first_cancellation(cancelled))
    await asyncio.sleep(0)
    assert await cancel_and_wait(task, recancel_every_s=0.01) == set()
    assert task.cancelled()
    assert cancelled == [1]


async def test_a_plain_cancel_and_wait_would_have_waited_for_ever() -> None:
    """The control: one cancellation leaves the same task running."""
    cancelled: list[int] = []
    task = asyncio.create_task(_loses_its_first_cancellation(cancelled))
    await asyncio.sleep(0)
    task.cancel()
    done, _ = await asyncio.wait([task], timeout=0.2)
    assert not done
    await cancel_and_wait(task, recancel_every_s=0.01)


async def test_a_task_that_never_ends_is_answered_at_the_deadline() -> None:
    cancelled: list[int] = []
    let_end = asyncio.Event()
    stubborn = asyncio.create_task(_ends_only_when_let(cancelled, let_end))
    quick = asyncio.create_task(asyncio.Event().wait())
    await asyncio.sleep(0)
    left = await cancel_and_wait(stubborn, quick, recancel_every_s=0.01, timeout_s=0.1)
    assert left == {stubborn}
    assert quick.cancelled()
    assert len(cancelled) >= 2
    let_end.set()
    await stubborn


async def test_ended_tasks_and_none_at_all_are_fine() -> None:
    done = asyncio.create_task(asyncio.sleep(0))
    await done
    assert await cancel_and_wait(done) == set()
    assert await cancel_and_wait() == set()
