import contextlib
from dataclasses import dataclass

import aiosmtplib

from adapters.mail.message import mime
from application.ports.mailer import MailDeliveryError, Mailer, MailMessage

__all__ = ("SmtpMailer", "SmtpServer")


@dataclass(frozen=True, slots=True, kw_only=True)
class SmtpServer:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    implicit_tls: bool = False
    """TLS from the first byte (``smtps``, port 465); else STARTTLS when the server offers it."""
    timeout_s: float = 30.0

    def __repr__(self) -> str:  # the password never shows in a log
        return f"SmtpServer(host={self.host!r}, port={self.port})"


class SmtpMailer(Mailer):
    """Mail through an SMTP server (aiosmtplib), one connection per message."""

    def __init__(self, server: SmtpServer, sender: str) -> None:
        self._server = server
        self._sender = sender

    async def send(self, message: MailMessage) -> None:
        server = self._server
        client = aiosmtplib.SMTP(
            hostname=server.host,
            port=server.port,
            username=server.username,
            password=server.password,
            use_tls=server.implicit_tls,
            start_tls=False if server.implicit_tls else None,
            timeout=server.timeout_s,
        )
        try:
            await client.connect()
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise MailDeliveryError(f"the mail server could not be reached: {exc}") from exc
        try:
            refused, _ = await client.send_message(mime(message, self._sender))
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [f"{r.code} {r.message}" for r in exc.recipients]
            raise MailDeliveryError(
                f"the mail server refused {message.to}: {'; '.join(codes)}",
                permanent=all(500 <= r.code < 600 for r in exc.recipients),
            ) from exc
        except aiosmtplib.SMTPResponseException as exc:
            # 5xx is final; 4xx (busy, greylisted) is worth another attempt.
            raise MailDeliveryError(
                f"the mail server refused the mail: {exc.code} {exc.message}",
                permanent=500 <= exc.code < 600,
            ) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise MailDeliveryError(f"the mail was not sent: {exc}") from exc
        finally:
            # Once the server has taken the message, a failed goodbye changes nothing.
            with contextlib.suppress(aiosmtplib.SMTPException, OSError):
                if client.is_connected:
                    await client.quit()
        if refused:
            raise MailDeliveryError(f"the mail server refused {message.to}", permanent=True)
