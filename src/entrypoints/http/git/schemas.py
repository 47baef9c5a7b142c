from datetime import datetime
from typing import Annotated

import msgspec

from application.git import GitConnection
from domain.git.entities import GitAccount

__all__ = ("GitAccountOut", "GitConnect", "GitConnectionList", "GitConnectionOut")


class GitConnect(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, rename="camel"
):
    token: Annotated[
        str,
        msgspec.Meta(
            max_length=4096,
            description="A personal access token (GitHub, GitLab); for Bitbucket an access "
            "token or an app password written `username:app_password`.",
        ),
    ]
    base_url: (
        Annotated[
            str,
            msgspec.Meta(
                max_length=2048,
                description="GitHub Enterprise or self-hosted GitLab web address, as "
                "`https://git.example.com`; none: the public cloud.",
            ),
        ]
        | None
    ) = None


class GitConnectionOut(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    provider: str
    base_url: str | None
    scopes: str | None
    expires_at: datetime | None
    refreshable: bool
    updated_at: datetime

    @classmethod
    def from_view(cls, connection: GitConnection) -> "GitConnectionOut":
        return cls(
            provider=connection.provider.value,
            base_url=connection.base_url,
            scopes=connection.scopes,
            expires_at=connection.expires_at,
            refreshable=connection.refreshable,
            updated_at=connection.updated_at,
        )


class GitConnectionList(msgspec.Struct, frozen=True, kw_only=True):
    items: list[GitConnectionOut]


class GitAccountOut(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    provider: str
    id: str
    login: str
    name: str | None
    email: str | None
    avatar_url: str | None

    @classmethod
    def from_entity(cls, account: GitAccount) -> "GitAccountOut":
        return cls(
            provider=account.provider.value,
            id=account.id_,
            login=account.login,
            name=account.name,
            email=account.email,
            avatar_url=account.avatar_url,
        )
