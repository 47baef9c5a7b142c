"""Outgoing mail: the SMTP server, or files in the data directory when there is none."""

from dataclasses import dataclass
from email.utils import parseaddr
from urllib.parse import unquote, urlsplit

from entrypoints.settings.fields import Section, setting
from entrypoints.settings.parsers import printable, url

__all__ = ("MailSettings", "SmtpUrl")


@dataclass(frozen=True, slots=True)
class SmtpUrl:
    host: str
    port: int
    username: str | None
    password: str | None
    implicit_tls: bool

    def __repr__(self) -> str:  # the password never shows
        return f"SmtpUrl(host={self.host!r}, port={self.port})"

    def describe(self) -> str:
        tls = "TLS" if self.implicit_tls else "STARTTLS when offered"
        who = f", as {self.username}" if self.username else ""
        return f"SMTP {self.host}:{self.port} ({tls}{who})"


def smtp_url(raw: str) -> SmtpUrl:
    url("smtp", "smtps")(raw)
    parts = urlsplit(raw)
    try:
        port = parts.port
    except ValueError:
        raise ValueError("expected a port number after the host") from None
    implicit_tls = parts.scheme == "smtps"
    assert parts.hostname is not None
    return SmtpUrl(
        host=parts.hostname,
        port=port or (465 if implicit_tls else 587),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        implicit_tls=implicit_tls,
    )


def sender(raw: str) -> str:
    printable(320)(raw)
    _, address = parseaddr(raw)
    if address.count("@") != 1 or not address.split("@")[1]:
        raise ValueError(
            f"expected an address such as `Maestrist <noreply@example.com>`, got {raw!r}"
        )
    return raw


@dataclass(frozen=True, slots=True, kw_only=True)
class MailSettings(Section):
    """Where mail (invitations, address verification) goes out."""

    smtp: SmtpUrl | None = setting(
        "MAESTRIST_SMTP_URL",
        "The SMTP server mail leaves through: `smtp://user:password@host:587` (STARTTLS when the "
        "server offers it) or `smtps://...:465` (TLS from the start); user and password are "
        "optional and percent-encoded. Unset: each mail is written to "
        "`<MAESTRIST_DATA_DIR>/mail/` as an `.eml` file and its path logged.",
        smtp_url,
        default=None,
    )
    sender: str | None = setting(
        "MAESTRIST_MAIL_FROM",
        "The From of every mail, such as `Maestrist <noreply@example.com>`. Unset: "
        "`Maestrist <noreply@HOST>`, HOST being MAESTRIST_PUBLIC_URL's host.",
        sender,
        default=None,
    )
