"""Mail leaves through the job queue: the use case that wants it enqueues it in its own
transaction (the outbox), and a worker sends it, retrying what failed for a while."""

import uuid
from dataclasses import dataclass
from datetime import timedelta

from application.jobs.handlers import JobHandler, PermanentJobError
from application.ports.mailer import MailDeliveryError, Mailer, MailMessage
from domain.jobs.entities import Job, NewJob, RetryPolicy

__all__ = ("MAIL_SEND", "OutgoingMail", "SendMail", "mail_job")

MAIL_SEND = "mail.send"
MAIL_RETRY = RetryPolicy(
    max_attempts=8,
    timeout=timedelta(seconds=90),
    backoff=timedelta(seconds=30),
    max_backoff=timedelta(hours=2),
)
"""About five hours of attempts before a mail is dead: long enough for a mail server's outage
or greylisting, short enough that an invitation is not sent a day late."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OutgoingMail:
    """What mail needs from the configuration: the domain its Message-IDs carry (the sender's)
    and the address of the server its links point to."""

    domain: str
    public_url: str

    def new_message(self, *, to: str, subject: str, text: str) -> MailMessage:
        return MailMessage(
            message_id=f"<{uuid.uuid4()}@{self.domain}>", to=to, subject=subject, text=text
        )


def mail_job(message: MailMessage, *, key: str | None = None) -> NewJob:
    """The job that sends ``message``, once: it is keyed by the Message-ID, or by ``key`` (a
    mail of which one per key is enough)."""
    return NewJob(
        kind=MAIL_SEND,
        payload={
            "messageId": message.message_id,
            "to": message.to,
            "subject": message.subject,
            "text": message.text,
        },
        key=f"mail:{key or message.message_id}",
        retry=MAIL_RETRY,
    )


class SendMail(JobHandler):
    """Send one enqueued mail. A mail server that refused it for good (a 5xx) ends the job dead
    at once; anything else is tried again. A worker killed after the server took the mail and
    before the job was marked done sends it again with the same Message-ID."""

    def __init__(self, mailer: Mailer) -> None:
        self._mailer = mailer

    async def handle(self, job: Job) -> None:
        payload = job.payload
        try:
            message = MailMessage(
                message_id=str(payload["messageId"]),
                to=str(payload["to"]),
                subject=str(payload["subject"]),
                text=str(payload["text"]),
            )
        except KeyError as exc:
            raise PermanentJobError(f"the mail job has no {exc.args[0]}") from exc
        try:
            await self._mailer.send(message)
        except MailDeliveryError as exc:
            if exc.permanent:
                raise PermanentJobError(str(exc)) from exc
            raise
