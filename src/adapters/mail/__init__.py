from adapters.mail.files import MailFileDrop
from adapters.mail.smtp import SmtpMailer, SmtpServer

__all__ = ("MailFileDrop", "SmtpMailer", "SmtpServer")
