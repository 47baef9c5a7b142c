"""Mail through a real SMTP server on loopback: what a refusal means, and a mail job that is
retried sends its mail once."""

from datetime import timedelta
from pathlib import Path

import pytest

from adapters.mail import MailFileDrop, SmtpMailer, SmtpServer
from application.jobs import JobWorker
from application.mail import SendMail, mail_job
from application.ports.mailer import MailDeliveryError, MailMessage
from domain.jobs.entities import JobStatus
from tests.fakes import FakeStore
from tests.fakes.clock import FakeClock
from tests.fakes.metrics import FakeMetrics
from tests.fakes.unit_of_work import FakeUnitsOfWork
from tests.support.jobs import opener
from tests.support.ports import closed_port
from tests.support.smtp_server import SmtpInbox, smtp_inbox

SENDER = "Maestrist <noreply@maestrist.example>"
MESSAGE = MailMessage(
    message_id="<m-1@maestrist.example>", to="ada@example.com", subject="Hello", text="Hi\n"
)


def _mailer(inbox: SmtpInbox) -> SmtpMailer:
    return SmtpMailer(SmtpServer(host=inbox.host, port=inbox.port, timeout_s=5), SENDER)


@pytest.mark.parametrize(
    ("reply", "permanent"),
    [("451 4.3.0 Try again later", False), ("550 5.1.1 No such user", True)],
    ids=["busy", "no-such-user"],
)
async def test_a_refusal_is_final_only_when_the_server_says_so(reply: str, permanent: bool) -> None:
    with smtp_inbox() as inbox:
        inbox.refusals.append(reply)
        with pytest.raises(MailDeliveryError) as refused:
            await _mailer(inbox).send(MESSAGE)
        assert refused.value.permanent is permanent
        assert reply.split(maxsplit=1)[0] in str(refused.value)
        assert inbox.received == []


async def test_a_server_that_cannot_be_reached_is_worth_another_attempt() -> None:
    mailer = SmtpMailer(SmtpServer(host="127.0.0.1", port=closed_port(), timeout_s=2), SENDER)
    with pytest.raises(MailDeliveryError) as refused:
        await mailer.send(MESSAGE)
    assert not refused.value.permanent
    assert "could not be reached" in str(refused.value)


async def test_the_file_drop_says_where_it_wrote_and_a_resend_rewrites_the_same_file(
    tmp_path: Path,
) -> None:
    drop = MailFileDrop(tmp_path / "mail", SENDER)
    await drop.send(MESSAGE)
    await drop.send(MESSAGE)
    assert list((tmp_path / "mail").iterdir()) == [drop.path_of(MESSAGE.message_id)]
    assert b"Message-ID: <m-1@maestrist.example>" in drop.path_of(MESSAGE.message_id).read_bytes()


async def test_a_mail_job_retried_after_a_refusal_sends_its_mail_once() -> None:
    clock, units = FakeClock(), FakeUnitsOfWork(FakeStore())
    with smtp_inbox() as inbox:
        inbox.refusals.append("451 4.7.1 Greylisted, come back later")
        handlers = {"mail.send": opener(SendMail(_mailer(inbox)))}
        worker = JobWorker(units, clock, handlers, metrics=FakeMetrics())
        job = mail_job(MESSAGE)
        async with units.begin() as uow:
            await uow.jobs.enqueue(job, clock.now())
            assert not await uow.jobs.enqueue(mail_job(MESSAGE), clock.now())  # same Message-ID
            await uow.commit()

        assert await worker.run_one()
        assert inbox.received == []
        clock.advance(timedelta(minutes=5))
        assert await worker.run_one()
        assert not await worker.run_one()

        assert [str(m["Message-ID"]) for m in inbox.received] == [MESSAGE.message_id]
        async with units.begin() as uow:
            sent = await uow.jobs.get(job.id_)
        assert sent is not None
        assert (sent.status, sent.attempts) == (JobStatus.DONE, 2)


async def test_a_mail_refused_for_good_ends_its_job_dead_at_once() -> None:
    clock, units = FakeClock(), FakeUnitsOfWork(FakeStore())
    with smtp_inbox() as inbox:
        inbox.refusals.append("550 5.1.1 No such user")
        worker = JobWorker(
            units, clock, {"mail.send": opener(SendMail(_mailer(inbox)))}, metrics=FakeMetrics()
        )
        job = mail_job(MESSAGE)
        async with units.begin() as uow:
            await uow.jobs.enqueue(job, clock.now())
            await uow.commit()
        assert await worker.run_one()
    async with units.begin() as uow:
        dead = await uow.jobs.get(job.id_)
    assert dead is not None
    assert (dead.status, dead.attempts) == (JobStatus.DEAD, 1)
    assert "550" in (dead.last_error or "")
