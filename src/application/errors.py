from datetime import timedelta
from typing import ClassVar

from application.ports.rate_limiter import RateDecision, RatePolicy

__all__ = (
    "ApplicationError",
    "CredentialNotAllowedError",
    "DependencyFailedError",
    "DependencyPreparingError",
    "DependencyUnavailableError",
    "EmailNotVerifiedError",
    "MissingScopeError",
    "NotAuthenticatedError",
    "RateLimitedError",
    "RuntimeAuthRefusedError",
    "SignInRejectedError",
    "TermsNotAcceptedError",
    "TooManySignInsError",
)


class ApplicationError(Exception):
    """Base of errors raised by use cases and the ports they call; no transport detail."""

    code: ClassVar[str] = "application-error"
    default_message: ClassVar[str] = "The request could not be completed."

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)


class NotAuthenticatedError(ApplicationError):
    code = "not-authenticated"
    default_message = "Sign in or send an API key to use this endpoint."


class DependencyUnavailableError(ApplicationError):
    """A store or service the server depends on did not answer; adapters raise it, not their own."""

    code = "dependency-unavailable"
    default_message = "A service the server depends on is unavailable; try again shortly."


class DependencyPreparingError(DependencyUnavailableError):
    """A dependency is still being set up (the agent runtime installing itself); it will be
    there without anyone acting, and everything not needing it works meanwhile."""

    code = "dependency-preparing"
    default_message = "A service the server depends on is still being prepared; try again soon."


class DependencyFailedError(DependencyUnavailableError):
    """A dependency could not be set up and will not be until an operator acts; the message
    says why."""

    code = "dependency-failed"
    default_message = "A service the server depends on could not be prepared."


class MissingScopeError(ApplicationError):
    code = "missing-scope"
    default_message = "The credential used lacks the scope this endpoint needs."


class CredentialNotAllowedError(ApplicationError):
    code = "credential-not-allowed"
    default_message = "This action needs a signed-in session, not an API key."


class SignInRejectedError(ApplicationError):
    """The identity provider refused the code, the state or a refresh token."""

    code = "sign-in-rejected"
    default_message = "The sign-in could not be completed; start it again."


class EmailNotVerifiedError(ApplicationError):
    """The person's email is not verified; ``can_resend`` when this server can send the
    verification link again (with Keycloak), else only the identity provider can verify it."""

    code = "email-not-verified"
    default_message = (
        "Verify your email address with your identity provider, then sign in again: the "
        "verification is read from the provider at sign-in."
    )
    resend_message: ClassVar[str] = (
        "Verify your email address first; POST /api/user/email/verification sends the link again."
    )

    def __init__(self, *, can_resend: bool = False) -> None:
        super().__init__(self.resend_message if can_resend else None)
        self.can_resend = can_resend


class TermsNotAcceptedError(ApplicationError):
    code = "terms-not-accepted"
    default_message = "Accept the terms of service with POST /api/user/terms first."

    def __init__(self, *, terms_version: str, terms_url: str | None) -> None:
        super().__init__()
        self.terms_version = terms_version
        self.terms_url = terms_url


class TooManySignInsError(ApplicationError):
    """One client started more sign-ins than a window allows; ``retry_after`` says when the
    window ends."""

    code = "too-many-sign-ins"
    default_message = "Too many sign-ins were started from your address; try again later."

    def __init__(self, *, retry_after: timedelta) -> None:
        super().__init__()
        self.retry_after = retry_after


class RateLimitedError(ApplicationError):
    """A caller went over one of its rate limits; ``decision`` says which rate and when it
    lets the caller through again."""

    code = "rate-limited"
    default_message = "Too many requests; wait as long as Retry-After says, then slow down."

    def __init__(self, *, policy: RatePolicy, decision: RateDecision) -> None:
        super().__init__()
        self.policy = policy
        self.decision = decision


class RuntimeAuthRefusedError(DependencyUnavailableError):
    """The conversation runtime refused our session key: a configuration fault, not the
    user's, so it answers like any unavailable dependency."""

    code = "runtime-auth-refused"
    default_message = "The agent runtime refused the server's credentials."
