from application.ports.mailer import MailDeliveryError, Mailer, MailMessage

__all__ = ("FakeMailer",)


class FakeMailer(Mailer):
    """Keeps what it was given to send, from ``sender``; ``refusals`` fail the next sends."""

    def __init__(self, sender: str = "Maestrist <noreply@maestrist.example>") -> None:
        self.sender = sender
        self.sent: list[MailMessage] = []
        self.refusals: list[MailDeliveryError] = []

    async def send(self, message: MailMessage) -> None:
        if self.refusals:
            raise self.refusals.pop(0)
        self.sent.append(message)
