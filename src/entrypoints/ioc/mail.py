"""Outgoing mail: SMTP when configured, else files in the data directory."""

from email.utils import parseaddr

from dishka import Provider, Scope, provide

from adapters.mail import MailFileDrop, SmtpMailer, SmtpServer
from application.mail import OutgoingMail, SendMail
from application.ports.mailer import Mailer
from entrypoints.settings import Settings

__all__ = ("MailProvider",)


class MailProvider(Provider):
    send_mail = provide(SendMail, scope=Scope.REQUEST)

    @provide(scope=Scope.APP)
    def mailer(self, settings: Settings) -> Mailer:
        smtp = settings.mail.smtp
        if smtp is None:
            return MailFileDrop(settings.data_dir / "mail", settings.mail_sender)
        server = SmtpServer(
            host=smtp.host,
            port=smtp.port,
            username=smtp.username,
            password=smtp.password,
            implicit_tls=smtp.implicit_tls,
        )
        return SmtpMailer(server, settings.mail_sender)

    @provide(scope=Scope.APP)
    def outgoing(self, settings: Settings) -> OutgoingMail:
        _, address = parseaddr(settings.mail_sender)
        return OutgoingMail(
            domain=address.rpartition("@")[2] or "localhost",
            public_url=settings.server.effective_public_url,
        )
