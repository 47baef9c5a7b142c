import asyncio
import hashlib
import logging
from pathlib import Path

from adapters.mail.message import mime
from application.ports.mailer import MailDeliveryError, Mailer, MailMessage

__all__ = ("MailFileDrop",)

_log = logging.getLogger(__name__)


class MailFileDrop(Mailer):
    """Mail written to files, one ``.eml`` per message in ``directory``, for a server with no
    mail server configured: each is logged with its path, so the link it carries is at hand.
    The file is named after the Message-ID, so sending a message again rewrites its file."""

    def __init__(self, directory: Path, sender: str) -> None:
        self._directory = directory
        self._sender = sender

    def path_of(self, message_id: str) -> Path:
        digest = hashlib.sha256(message_id.encode()).hexdigest()[:32]
        return self._directory / f"{digest}.eml"

    def _write(self, message: MailMessage) -> Path:
        self._directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self.path_of(message.message_id)
        partial = path.with_suffix(".part")
        partial.write_bytes(bytes(mime(message, self._sender)))
        partial.replace(path)
        return path

    async def send(self, message: MailMessage) -> None:
        try:
            path = await asyncio.to_thread(self._write, message)
        except OSError as exc:
            raise MailDeliveryError(f"the mail could not be written: {exc}") from exc
        _log.info("mail to %s written to %s (no mail server is configured)", message.to, path)
