from application.mail.send_mail import MAIL_SEND, OutgoingMail, SendMail, mail_job

__all__ = ("MAIL_SEND", "OutgoingMail", "SendMail", "mail_job")
