from email.message import EmailMessage
from email.utils import formatdate

from application.ports.mailer import MailMessage

__all__ = ("mime",)


def mime(message: MailMessage, sender: str) -> EmailMessage:
    """The message as an RFC 5322 mail from ``sender``."""
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = message.to
    mail["Subject"] = message.subject
    mail["Message-ID"] = message.message_id
    mail["Date"] = formatdate(usegmt=True)
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(message.text)
    return mail
