from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from domain.identity.sessions import REFRESH_MARGIN

__all__ = ("SignInPolicy", "safe_return_path")


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
    refresh_lock_ttl: timedelta = timedelta(seconds=15)


def safe_return_path(requested: str | None) -> str:
    """A same-origin path to return to after sign-in, or ``/``.

    Only absolute paths of this site pass: no scheme, no host, no ``//`` or ``\\`` tricks.
    """
    if not requested or not requested.startswith("/") or requested.startswith("//"):
        return "/"
    if "\\" in requested or any(ord(ch) < 32 for ch in requested):
        return "/"
    parts = urlsplit(requested)
    if parts.scheme or parts.netloc:
        return "/"
    return requested
