"""The resolver: the GitHub App it answers issues and pull requests as, and what triggers it."""

import re
from dataclasses import dataclass
from pathlib import Path

from entrypoints.settings.fields import Binding, Section, setting
from entrypoints.settings.parsers import path, printable

__all__ = ("ResolverSettings",)

_PEM = re.compile(r"-----BEGIN (RSA )?PRIVATE KEY-----.+-----END (RSA )?PRIVATE KEY-----", re.S)


def _app_id(raw: str) -> str:
    if not re.fullmatch(r"[0-9]{1,20}|Iv[0-9A-Za-z.]{1,60}", raw):
        raise ValueError("expected the app's numeric id or its client id (Iv...)")
    return raw


def _pem(raw: str) -> str:
    value = raw.replace("\\n", "\n")
    if not _PEM.search(value):
        raise ValueError("expected an RSA private key in PEM, as GitHub hands it out")
    return value


def _slug(raw: str) -> str:
    if not re.fullmatch(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", raw):
        raise ValueError("expected the app's slug, as in https://github.com/apps/<slug>")
    return raw


def _handle(raw: str) -> str:
    if not re.fullmatch(r"@[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,98}[A-Za-z0-9])?", raw):
        raise ValueError("expected @ and a login name, such as @openhands")
    return raw


@dataclass(frozen=True, slots=True, kw_only=True)
class ResolverSettings(Section):
    """The GitHub App; unset, GitHub deliveries are acknowledged and nothing acts on them."""

    github_app_id: str | None = setting(
        "MAESTRIST_GITHUB_APP_ID",
        "The GitHub App's id (or client id) that its JWT names; with its private key, issues "
        "and pull requests where it is installed can trigger conversations.",
        _app_id,
        default=None,
    )
    github_app_slug: str | None = setting(
        "MAESTRIST_GITHUB_APP_SLUG",
        "The app's slug (`https://github.com/apps/<slug>`): what its bot account, "
        "`<slug>[bot]`, writes never triggers it.",
        _slug,
        default=None,
    )
    github_app_private_key: str | None = setting(
        "MAESTRIST_GITHUB_APP_PRIVATE_KEY",
        "The app's private key, PEM (newlines may be written `\\n`); or use "
        "`MAESTRIST_GITHUB_APP_PRIVATE_KEY_FILE`.",
        _pem,
        shown="",
        default=None,
        secret=True,
    )
    github_app_private_key_file: Path | None = setting(
        "MAESTRIST_GITHUB_APP_PRIVATE_KEY_FILE",
        "A file holding the app's private key (the `.pem` GitHub downloads), read at start.",
        path,
        default=None,
    )
    label: str = setting(
        "MAESTRIST_RESOLVER_LABEL",
        "The label that, added to an issue or pull request, sets the agent working on it.",
        printable(100),
        default="openhands",
    )
    handle: str = setting(
        "MAESTRIST_RESOLVER_HANDLE",
        "The handle that, mentioned in a comment on an issue or pull request, sets the agent "
        "working on it.",
        _handle,
        default="@openhands",
    )

    @property
    def github_app_enabled(self) -> bool:
        return self.github_app_id is not None

    def private_key_pem(self) -> str:
        """The app's private key, read from its file when it is given as one."""
        if self.github_app_private_key is not None:
            return self.github_app_private_key
        assert self.github_app_private_key_file is not None
        return _pem(self.github_app_private_key_file.read_text(encoding="utf-8"))

    def problems(self, binding: Binding) -> dict[str, str]:
        del binding
        found: dict[str, str] = {}
        keys = (self.github_app_private_key, self.github_app_private_key_file)
        if all(key is not None for key in keys):
            found["MAESTRIST_GITHUB_APP_PRIVATE_KEY_FILE"] = (
                "set the private key or its file, not both"
            )
        if self.github_app_id is not None and all(key is None for key in keys):
            found["MAESTRIST_GITHUB_APP_PRIVATE_KEY"] = "needed with MAESTRIST_GITHUB_APP_ID"
        if self.github_app_id is None and any(key is not None for key in keys):
            found["MAESTRIST_GITHUB_APP_ID"] = "needed with the app's private key"
        file = self.github_app_private_key_file
        if file is not None and not file.is_file():
            found["MAESTRIST_GITHUB_APP_PRIVATE_KEY_FILE"] = f"no file at {file}"
        return found
