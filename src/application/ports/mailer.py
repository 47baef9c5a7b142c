from abc import abstractmethod
from dataclasses import dataclass
from typing import Protocol

__all__ = ("MailDeliveryError", "MailMessage", "Mailer")


@dataclass(frozen=True, slots=True, kw_only=True)
class MailMessage:
    """One plain-text mail to one address. ``message_id`` (``<unique@domain>``) stays the same
    on every attempt to send it, so a receiver can tell a repeat from a new mail."""

    message_id: str
    to: str
    subject: str
    text: str


class MailDeliveryError(Exception):
    """The mail was not sent. ``permanent``: sending it again cannot work (the server refused
    the recipient or the message for good), so it is not retried."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Mailer(Protocol):
    @abstractmethod
    async def send(self, message: MailMessage) -> None:
        """Hand the message over for delivery, from the configured sender; raises
        ``MailDeliveryError`` when it was not."""
