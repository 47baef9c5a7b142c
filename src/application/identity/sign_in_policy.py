from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from domain.identity.sessions import REFRESH_MARGIN

__all__ = ("RETURN_TO_MAX_LENGTH", "SignInPolicy", "safe_return_path")

RETURN_TO_MAX_LENGTH = 512
"""The longest path a sign-in may return to: it is kept, for anyone who asks, until the
sign-in ends."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SignInPolicy:
    """How sign-in is set up for this deployment (from settings)."""

    redirect_uri: str
    post_logout_redirect_uri: str
    session_max_age: timedelta
    """Used when the provider does not say how long its refresh token lives."""
    secure_cookies: bool = True
    """``Secure`` on the session cookie; off only for plain-HTTP loopback development."""
    refresh_margin: timedelta = REFRESH_MARGIN
    """Refresh an access token this long before it expires."""
    attempt_ttl: timedelta = timedelta(minutes=10)
    starts_per_client: int = 30
    """Sign-ins one client address may start within ``attempt_ttl``; more are refused, so
    anonymous callers cannot fill the attempt store."""
    refresh_lock_ttl: timedelta = timedelta(seconds=15)


def safe_return_path(requested: str | None) -> str:
    """A same-origin path to return to after sign-in, or ``/``.

    Only absolute paths of this site pass: no scheme, no host, no ``//`` or ``\\`` tricks,
    and no more than ``RETURN_TO_MAX_LENGTH`` characters.
    """
    if (
        not requested
        or len(requested) > RETURN_TO_MAX_LENGTH
        or not requested.startswith("/")
        or requested.startswith("//")
    ):
        return "/"
    if "\\" in requested or any(ord(ch) < 32 for ch in requested):
        return "/"
    parts = urlsplit(requested)
    if parts.scheme or parts.netloc:
        return "/"
    return requested
