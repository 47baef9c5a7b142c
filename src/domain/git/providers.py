from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from domain.shared.errors import InvalidValueError

__all__ = ("GitHost", "ProviderKind")


class ProviderKind(StrEnum):
    """The git hosting services a user can connect."""

    GITHUB = "github"
    GITLAB = "gitlab"
    BITBUCKET = "bitbucket"

    @property
    def clone_username(self) -> str:
        """The username git sends with an access token as its password over HTTPS."""
        return _CLONE_USERNAMES[self]

    @classmethod
    def parse(cls, raw: str, *, field: str = "provider") -> "ProviderKind":
        try:
            return cls(raw.strip().lower())
        except ValueError:
            names = ", ".join(kind.value for kind in cls)
            raise InvalidValueError(
                f"Unknown git provider {raw[:40]!r}; expected one of {names}.", field=field
            ) from None


_CLONE_USERNAMES = {
    ProviderKind.GITHUB: "x-access-token",
    ProviderKind.GITLAB: "oauth2",
    ProviderKind.BITBUCKET: "x-token-auth",
}

_CLOUD = {
    ProviderKind.GITHUB: "https://github.com",
    ProviderKind.GITLAB: "https://gitlab.com",
    ProviderKind.BITBUCKET: "https://bitbucket.org",
}


@dataclass(frozen=True, slots=True)
class GitHost:
    """Where a provider lives: its public cloud, or a GitHub Enterprise / self-hosted GitLab
    installation at ``base_url`` (the web address users browse, without a trailing slash)."""

    kind: ProviderKind
    base_url: str | None = None

    def __post_init__(self) -> None:
        if self.base_url is None:
            return
        parts = urlsplit(self.base_url)
        if (
            parts.scheme not in ("https", "http")
            or not parts.hostname
            or parts.query
            or parts.fragment
            or parts.username
            or parts.password
        ):
            raise InvalidValueError(
                "The base URL must be an http(s) address with no credentials, query or fragment.",
                field="base_url",
            )
        normalised = self.base_url.rstrip("/")
        if normalised == _CLOUD[self.kind]:
            object.__setattr__(self, "base_url", None)
        else:
            object.__setattr__(self, "base_url", normalised)
        if self.kind is ProviderKind.BITBUCKET and self.base_url is not None:
            raise InvalidValueError(
                "Bitbucket is supported on bitbucket.org only.", field="base_url"
            )

    @property
    def web_url(self) -> str:
        return self.base_url or _CLOUD[self.kind]

    @property
    def is_cloud(self) -> bool:
        return self.base_url is None
