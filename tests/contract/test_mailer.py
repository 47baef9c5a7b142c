"""Every mailer hands a message over whole, from the configured sender, under its
Message-ID: the fake, the file drop and SMTP (to a real SMTP server on loopback)."""

import email
import email.policy
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path

import pytest

from adapters.mail import MailFileDrop, SmtpMailer, SmtpServer
from application.ports.mailer import Mailer, MailMessage
from tests.fakes.mailer import FakeMailer
from tests.support.smtp_server import smtp_inbox

SENDER = "Maestrist <noreply@maestrist.example>"


@dataclass
class Delivery:
    mailer: Mailer
    received: Callable[[], list[EmailMessage]]


def _from_fake(fake: FakeMailer) -> list[EmailMessage]:
    found = []
    for message in fake.sent:
        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = fake.sender, message.to, message.subject
        mail["Message-ID"] = message.message_id
        mail.set_content(message.text)
        found.append(mail)
    return found


def _from_files(directory: Path) -> list[EmailMessage]:
    return [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in sorted(directory.glob("*.eml"))
    ]


@contextmanager
def _delivery(kind: str, tmp_path: Path) -> Iterator[Delivery]:
    if kind == "fake":
        fake = FakeMailer(SENDER)
        yield Delivery(fake, lambda: _from_fake(fake))
    elif kind == "files":
        yield Delivery(
            MailFileDrop(tmp_path / "mail", SENDER), lambda: _from_files(tmp_path / "mail")
        )
    else:
        with smtp_inbox() as inbox:
            server = SmtpServer(host=inbox.host, port=inbox.port, timeout_s=5)
            yield Delivery(SmtpMailer(server, SENDER), lambda: list(inbox.received))


@pytest.fixture(params=["fake", "files", "smtp"])
def delivery(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Delivery]:
    with _delivery(request.param, tmp_path) as opened:
        yield opened


MESSAGE = MailMessage(
    message_id="<0192-test@maestrist.example>",
    to="Zoë.Hire@example.com",
    subject="Ada invited you to Acme — on Maestrist",
    text="Sign in to accept:\n\n    https://maestrist.example/\n\nÇa marche.\n",
)


async def test_a_message_arrives_whole_from_the_sender_under_its_message_id(
    delivery: Delivery,
) -> None:
    await delivery.mailer.send(MESSAGE)

    [mail] = delivery.received()
    assert parseaddr(str(mail["From"])) == ("Maestrist", "noreply@maestrist.example")
    assert str(mail["To"]) == MESSAGE.to
    assert str(mail["Subject"]) == MESSAGE.subject
    assert str(mail["Message-ID"]) == MESSAGE.message_id
    body = mail.get_body(("plain",))
    assert body is not None
    assert body.get_content().replace("\r\n", "\n") == MESSAGE.text


async def test_each_message_arrives_once(delivery: Delivery) -> None:
    other = MailMessage(
        message_id="<0193-test@maestrist.example>",
        to="b@example.com",
        subject="Second",
        text="Two\n",
    )
    await delivery.mailer.send(MESSAGE)
    await delivery.mailer.send(other)
    assert sorted(str(m["Message-ID"]) for m in delivery.received()) == sorted(
        [MESSAGE.message_id, other.message_id]
    )
