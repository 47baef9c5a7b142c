from dataclasses import dataclass
from datetime import datetime
from typing import NewType
from uuid import UUID

from domain.identity.value_objects import EmailAddress

__all__ = ("LOCAL_USER_SUBJECT", "User", "UserId")

UserId = NewType("UserId", UUID)

LOCAL_USER_SUBJECT = "local"
"""Subject of the single user of the embedded binding."""


@dataclass(kw_only=True, eq=False)
class User:
    """A person known to the server, identified by the subject its identity provider gives."""

    id_: UserId
    subject: str
    email: EmailAddress
    email_verified: bool
    display_name: str
    avatar_url: str | None
    created_at: datetime
    terms_accepted_version: str | None = None
    terms_accepted_at: datetime | None = None
    confirmed_email: EmailAddress | None = None
    """The address this server itself confirmed (a link it mailed was followed), for
    deployments whose identity provider does not verify addresses: signing in with it counts
    as verified whatever the provider says."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, User) and other.id_ == self.id_

    def __hash__(self) -> int:
        return hash(self.id_)
