"""Typed settings, read from the environment in one place and validated at start-up.

Each family owns a frozen section in a module of its own, whose fields carry their variable,
documentation and parser (``setting(...)``) and whose ``problems`` holds the rules among them;
``Settings`` composes the sections (``settings.database.url``) and checks the rules that span
several. A new family adds its module and one ``section(...)`` field on ``Settings``.
"""

from entrypoints.settings.billing import BillingSettings
from entrypoints.settings.conversations import ConversationSettings
from entrypoints.settings.crypto import CryptoSettings, parse_encryption_keys
from entrypoints.settings.database import DatabaseSettings
from entrypoints.settings.embedded import EmbeddedSettings
from entrypoints.settings.fields import Binding, Section, SettingsError
from entrypoints.settings.git import GitSettings
from entrypoints.settings.identity import IdentitySettings
from entrypoints.settings.jobs import JobSettings
from entrypoints.settings.mail import MailSettings, SmtpUrl
from entrypoints.settings.parsers import is_loopback_http
from entrypoints.settings.redis import RedisSettings
from entrypoints.settings.root import Settings, default_data_dir
from entrypoints.settings.runtime import RuntimeKind, RuntimeSettings
from entrypoints.settings.server import LogFormat, ServerSettings

__all__ = (
    "BillingSettings",
    "Binding",
    "ConversationSettings",
    "CryptoSettings",
    "DatabaseSettings",
    "EmbeddedSettings",
    "GitSettings",
    "IdentitySettings",
    "JobSettings",
    "LogFormat",
    "MailSettings",
    "RedisSettings",
    "RuntimeKind",
    "RuntimeSettings",
    "Section",
    "ServerSettings",
    "Settings",
    "SettingsError",
    "SmtpUrl",
    "default_data_dir",
    "is_loopback_http",
    "parse_encryption_keys",
)
