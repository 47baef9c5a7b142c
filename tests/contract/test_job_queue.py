"""The job queue, on the fake, SQLite and PostgreSQL alike: enqueueing is part of the
transaction that asks for the job, a job is claimed by one worker at a time for one attempt,
and a worker that lost its claim changes nothing."""

import asyncio
from collections.abc import Mapping
from datetime import datetime, timedelta

import pytest

from domain.jobs.entities import CLAIM_GRACE, LOST_ERROR, Job, JobStatus, NewJob, RetryPolicy
from tests.backends import OpenPorts
from tests.factories import T0

POLICY = RetryPolicy(max_attempts=3, timeout=timedelta(seconds=20), backoff=timedelta(seconds=5))


def _job(
    kind: str = "mail.send",
    *,
    key: str | None = None,
    run_at: datetime | None = None,
    payload: Mapping[str, object] | None = None,
) -> NewJob:
    return NewJob(
        kind=kind,
        payload={"to": "ada@example.com"} if payload is None else payload,
        key=key,
        run_at=run_at,
        retry=POLICY,
    )


async def _enqueue(open_ports: OpenPorts, *jobs: NewJob, now: datetime = T0) -> list[bool]:
    async with open_ports() as ports:
        added = [await ports.uow.jobs.enqueue(job, now) for job in jobs]
        await ports.uow.commit()
    return added


async def _claim(open_ports: OpenPorts, now: datetime = T0) -> Job | None:
    async with open_ports() as ports:
        job = await ports.uow.jobs.claim(now)
        await ports.uow.commit()
    return job


async def test_a_claimed_job_runs_one_attempt_under_a_claim_of_its_timeout_and_grace(
    open_ports: OpenPorts,
) -> None:
    job = _job(payload={"to": "zoë@example.com", "nested": {"n": [1, 2.5, None, True]}})
    assert await _enqueue(open_ports, job) == [True]

    claimed = await _claim(open_ports, T0 + timedelta(seconds=1))

    assert claimed is not None
    assert claimed.id_ == job.id_
    assert claimed.kind == "mail.send"
    assert claimed.payload == {"to": "zoë@example.com", "nested": {"n": [1, 2.5, None, True]}}
    assert claimed.status is JobStatus.RUNNING
    assert claimed.attempts == 1
    assert claimed.retry == POLICY
    assert claimed.locked_until == T0 + timedelta(seconds=21) + CLAIM_GRACE
    assert await _claim(open_ports, T0 + timedelta(seconds=2)) is None


async def test_a_key_enqueues_its_job_once(open_ports: OpenPorts) -> None:
    first, again = _job(key="webhook:github:d-1"), _job(key="webhook:github:d-1")
    assert await _enqueue(open_ports, first) == [True]
    assert await _enqueue(open_ports, again, _job(key="webhook:github:d-2")) == [False, True]
    async with open_ports() as ports:
        listed = await ports.uow.jobs.list()
    assert sorted(job.key or "" for job in listed) == ["webhook:github:d-1", "webhook:github:d-2"]
    assert first.id_ in {job.id_ for job in listed}
    async with open_ports() as ports:
        found = await ports.uow.jobs.find("webhook:github:d-1")
        assert await ports.uow.jobs.find("webhook:github:d-3") is None
    assert found is not None
    assert found.id_ == first.id_


async def test_the_same_key_enqueued_by_two_transactions_at_once_is_kept_once(
    open_ports: OpenPorts,
) -> None:
    async def enqueue_and_commit(started: asyncio.Event) -> bool:
        async with open_ports() as ports:
            added = await ports.uow.jobs.enqueue(_job(key="cron:sweep:1"), T0)
            started.set()
            await asyncio.sleep(0.05)
            await ports.uow.commit()
        return added

    one, two = asyncio.Event(), asyncio.Event()
    results = await asyncio.gather(enqueue_and_commit(one), enqueue_and_commit(two))
    assert sorted(results) == [False, True]
    async with open_ports() as ports:
        assert len(await ports.uow.jobs.list()) == 1


async def test_a_job_is_enqueued_only_with_the_transaction_that_asked_for_it(
    open_ports: OpenPorts,
) -> None:
    kept, dropped = _job(), _job()
    async with open_ports() as ports:
        await ports.uow.jobs.enqueue(dropped, T0)
        async with open_ports() as worker:  # not committed: no worker sees it
            assert await worker.uow.jobs.get(dropped.id_) is None
            assert (await worker.uow.jobs.depth(T0)).due == 0
        await ports.uow.rollback()
    async with open_ports() as ports:
        await ports.uow.jobs.enqueue(kept, T0)
        await ports.uow.commit()
    claimed = await _claim(open_ports)
    assert claimed is not None
    assert claimed.id_ == kept.id_
    assert await _claim(open_ports) is None


async def test_jobs_are_claimed_when_due_the_longest_due_first(open_ports: OpenPorts) -> None:
    later = _job(run_at=T0 + timedelta(minutes=5))
    older, newer = _job(run_at=T0 - timedelta(seconds=10)), _job(run_at=T0)
    await _enqueue(open_ports, later, newer, older)

    claimed = [await _claim(open_ports) for _ in range(2)]
    assert [job.id_ if job else None for job in claimed] == [older.id_, newer.id_]
    assert await _claim(open_ports) is None
    last = await _claim(open_ports, T0 + timedelta(minutes=5))
    assert last is not None
    assert last.id_ == later.id_


async def test_two_workers_claiming_at_once_take_different_jobs(open_ports: OpenPorts) -> None:
    """SKIP LOCKED: the second claim takes the next job; on SQLite, whose writers take turns,
    it takes it once the first commits."""
    first, second = _job(run_at=T0 - timedelta(seconds=1)), _job()
    await _enqueue(open_ports, first, second)
    async with open_ports() as one:
        taken = await one.uow.jobs.claim(T0)
        other = asyncio.create_task(_claim(open_ports))
        await asyncio.sleep(0.2)
        await one.uow.commit()
    assert taken is not None
    assert taken.id_ == first.id_
    claimed = await asyncio.wait_for(other, 10)
    assert claimed is not None
    assert claimed.id_ == second.id_


async def test_a_completed_job_is_done_and_never_claimed_again(open_ports: OpenPorts) -> None:
    job = _job()
    await _enqueue(open_ports, job)
    claimed = await _claim(open_ports)
    assert claimed is not None
    async with open_ports() as ports:
        assert await ports.uow.jobs.complete(claimed, T0 + timedelta(seconds=3))
        await ports.uow.commit()
    async with open_ports() as ports:
        done = await ports.uow.jobs.get(job.id_)
        assert await ports.uow.jobs.claim(T0 + timedelta(days=1)) is None
    assert done is not None
    assert done.status is JobStatus.DONE
    assert done.finished_at == T0 + timedelta(seconds=3)
    assert done.locked_until is None


async def test_a_failed_attempt_is_retried_when_its_backoff_ends(open_ports: OpenPorts) -> None:
    job = _job()
    await _enqueue(open_ports, job)
    claimed = await _claim(open_ports)
    assert claimed is not None
    async with open_ports() as ports:
        assert await ports.uow.jobs.retry(claimed, T0 + timedelta(seconds=5), "SMTPError: busy")
        await ports.uow.commit()

    assert await _claim(open_ports, T0 + timedelta(seconds=4)) is None
    again = await _claim(open_ports, T0 + timedelta(seconds=5))
    assert again is not None
    assert again.id_ == job.id_
    assert again.attempts == 2
    assert again.last_error == "SMTPError: busy"


async def test_a_worker_that_lost_its_claim_changes_nothing(open_ports: OpenPorts) -> None:
    await _enqueue(open_ports, _job())
    lost = await _claim(open_ports)
    assert lost is not None
    assert lost.locked_until is not None
    assert await _claim(open_ports, lost.locked_until - timedelta(seconds=1)) is None

    taken = await _claim(open_ports, lost.locked_until)  # its worker died, or ran over
    assert taken is not None
    assert taken.attempts == 2
    assert taken.last_error == LOST_ERROR
    async with open_ports() as ports:
        assert not await ports.uow.jobs.complete(lost, T0)
        assert not await ports.uow.jobs.retry(lost, T0, "late")
        assert not await ports.uow.jobs.bury(lost, T0, "late")
        assert await ports.uow.jobs.complete(taken, T0 + timedelta(minutes=2))
        await ports.uow.commit()
    async with open_ports() as ports:
        kept = await ports.uow.jobs.get(taken.id_)
    assert kept is not None
    assert kept.status is JobStatus.DONE


async def test_a_job_whose_worker_died_during_its_last_attempt_ends_dead(
    open_ports: OpenPorts,
) -> None:
    job = _job()
    await _enqueue(open_ports, job)
    now = T0
    for _ in range(POLICY.max_attempts):
        claimed = await _claim(open_ports, now)
        assert claimed is not None
        assert claimed.locked_until is not None
        now = claimed.locked_until
    assert await _claim(open_ports, now) is None
    async with open_ports() as ports:
        dead = await ports.uow.jobs.get(job.id_)
        listed = await ports.uow.jobs.list(JobStatus.DEAD)
    assert dead is not None
    assert dead.status is JobStatus.DEAD
    assert dead.attempts == POLICY.max_attempts
    assert dead.last_error == LOST_ERROR
    assert [j.id_ for j in listed] == [job.id_]


async def test_a_dead_job_is_revived_with_all_its_attempts_or_dropped(
    open_ports: OpenPorts,
) -> None:
    doomed, other = _job(), _job(kind="webhook.process", run_at=T0 + timedelta(days=1))
    await _enqueue(open_ports, doomed, other)
    async with open_ports() as ports:
        claimed = await ports.uow.jobs.claim(T0)
        assert claimed is not None
        assert await ports.uow.jobs.bury(claimed, T0, "ValueError: no such address")
        assert not await ports.uow.jobs.revive(other.id_, T0)  # not dead: unchanged
        assert not await ports.uow.jobs.drop(other.id_)
        await ports.uow.commit()
    async with open_ports() as ports:
        dead = await ports.uow.jobs.list(JobStatus.DEAD, kind="mail.send")
        assert [j.last_error for j in dead] == ["ValueError: no such address"]
        assert await ports.uow.jobs.list(JobStatus.DEAD, kind="webhook.process") == []
        assert await ports.uow.jobs.revive(doomed.id_, T0 + timedelta(hours=1))
        await ports.uow.commit()
    revived = await _claim(open_ports, T0 + timedelta(hours=1))
    assert revived is not None
    assert revived.id_ == doomed.id_
    assert revived.attempts == 1
    async with open_ports() as ports:
        assert await ports.uow.jobs.bury(revived, T0, "again")
        await ports.uow.commit()
    async with open_ports() as ports:
        assert await ports.uow.jobs.drop(doomed.id_)
        await ports.uow.commit()
    async with open_ports() as ports:
        assert await ports.uow.jobs.get(doomed.id_) is None
        assert await ports.uow.jobs.get(other.id_) is not None


async def test_the_depth_counts_what_waits_runs_and_died(open_ports: OpenPorts) -> None:
    await _enqueue(
        open_ports,
        _job(run_at=T0 - timedelta(minutes=2)),
        _job(run_at=T0 - timedelta(minutes=1)),
        _job(run_at=T0 - timedelta(seconds=30)),
        _job(run_at=T0 + timedelta(hours=1)),
        _job(run_at=T0 - timedelta(minutes=3)),
    )
    running = await _claim(open_ports)
    dead = await _claim(open_ports)
    assert running is not None
    assert dead is not None
    async with open_ports() as ports:
        await ports.uow.jobs.bury(dead, T0, "boom")
        await ports.uow.commit()
    async with open_ports() as ports:
        depth = await ports.uow.jobs.depth(T0)
    assert (depth.due, depth.scheduled, depth.running, depth.dead) == (2, 1, 1, 1)
    assert depth.oldest_due_at == T0 - timedelta(minutes=1)


async def test_pruning_deletes_jobs_done_before_a_time_and_frees_their_keys(
    open_ports: OpenPorts,
) -> None:
    old, recent = _job(key="k-old"), _job(key="k-recent", run_at=T0 + timedelta(seconds=1))
    await _enqueue(open_ports, old, recent)
    for finished in (T0 + timedelta(seconds=1), T0 + timedelta(days=2)):
        claimed = await _claim(open_ports, finished)
        assert claimed is not None
        async with open_ports() as ports:
            await ports.uow.jobs.complete(claimed, finished)
            await ports.uow.commit()
    async with open_ports() as ports:
        assert await ports.uow.jobs.prune(T0 + timedelta(days=1)) == 1
        await ports.uow.commit()
    assert await _enqueue(open_ports, _job(key="k-old"), _job(key="k-recent")) == [True, False]


async def test_a_schedule_moves_on_once_per_tick(open_ports: OpenPorts) -> None:
    tick, following, after = (T0 + timedelta(minutes=n) for n in (1, 2, 3))
    async with open_ports() as ports:
        assert await ports.uow.jobs.schedule_due("sweep") is None
        assert await ports.uow.jobs.advance_schedule("sweep", tick, following)
        assert not await ports.uow.jobs.advance_schedule("sweep", tick, following)
        await ports.uow.commit()
    async with open_ports() as ports:
        assert await ports.uow.jobs.schedule_due("sweep") == following
        assert await ports.uow.jobs.advance_schedule("sweep", following, after)
        await ports.uow.commit()
    async with open_ports() as ports:
        assert await ports.uow.jobs.schedule_due("sweep") == after


@pytest.mark.parametrize("first", [True, False], ids=["stored", "first-tick"])
async def test_two_servers_moving_one_tick_at_once_move_it_once(
    open_ports: OpenPorts, first: bool
) -> None:
    tick, following = T0 + timedelta(minutes=1), T0 + timedelta(minutes=2)
    if first:
        async with open_ports() as ports:
            await ports.uow.jobs.advance_schedule("sweep", T0, tick)
            await ports.uow.commit()

    async def advance() -> bool:
        async with open_ports() as ports:
            moved = await ports.uow.jobs.advance_schedule("sweep", tick, following)
            await asyncio.sleep(0.05)
            await ports.uow.commit()
        return moved

    assert sorted(await asyncio.gather(advance(), advance())) == [False, True]
