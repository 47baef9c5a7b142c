from abc import abstractmethod
from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from application.errors import NotAuthenticatedError

__all__ = ("CredentialRejectedError", "TokenSigner")


class CredentialRejectedError(NotAuthenticatedError):
    """A signed credential that is forged, altered, expired, or meant for another audience."""

    code = "credential-rejected"
    default_message = "The credential is not valid: it is altered, expired or not meant here."


class TokenSigner(Protocol):
    """Signs short-lived credentials with keys of its own, never the encryption keys.

    Every token names the key that signed it: the newest key signs, every configured key
    verifies, so signing keys rotate like encryption keys.
    """

    @abstractmethod
    def sign(
        self,
        claims: Mapping[str, str],
        *,
        audience: str,
        issued_at: datetime,
        expires_at: datetime,
    ) -> str:
        """A compact token carrying ``claims``, valid for ``audience`` until ``expires_at``."""

    @abstractmethod
    def verify(self, token: str, *, audience: str, now: datetime) -> dict[str, str]:
        """The claims ``sign`` was given, if ``token`` is intact, signed by a configured key,
        meant for ``audience`` and not expired at ``now``; else ``CredentialRejectedError``."""
