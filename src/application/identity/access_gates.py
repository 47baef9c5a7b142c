from dataclasses import dataclass

from application.errors import (
    CredentialNotAllowedError,
    EmailNotVerifiedError,
    TermsNotAcceptedError,
)
from domain.identity.entities import LOCAL_USER_SUBJECT, User
from domain.identity.principals import AuthMethod, Principal
from domain.shared.errors import PermissionDeniedError

__all__ = ("AccessPolicy", "check_gates", "signed_in_person")


@dataclass(frozen=True, slots=True, kw_only=True)
class AccessPolicy:
    """Conditions a signed-in person must meet before using the API (from settings)."""

    terms_version: str | None = None
    """The terms of service in force; ``None`` when the deployment has none."""
    terms_url: str | None = None
    verification_resend: bool = False
    """Whether this server can send the email verification link again (with Keycloak)."""


def check_gates(
    actor: Principal,
    policy: AccessPolicy,
    *,
    allow_unverified_email: bool = False,
    allow_without_terms: bool = False,
    people_only: bool = False,
) -> None:
    """Raise unless ``actor`` may go on: a credential the route accepts, a verified email,
    then the current terms accepted.

    ``people_only`` routes (managing sessions and API keys) refuse API keys whatever their
    scopes: a key must not extend, end or outlive the person's own access. The embedded
    binding's local user passes: it is the machine's owner, not a signed-up user.
    """
    if people_only and actor.method is AuthMethod.API_KEY:
        raise CredentialNotAllowedError
    if actor.method is AuthMethod.LOCAL:
        return
    if not actor.user.email_verified and not allow_unverified_email:
        raise EmailNotVerifiedError(can_resend=policy.verification_resend)
    terms = policy.terms_version
    if (
        terms is not None
        and actor.user.terms_accepted_version != terms
        and not (allow_without_terms)
    ):
        raise TermsNotAcceptedError(terms_version=terms, terms_url=policy.terms_url)


def signed_in_person(actor: Principal) -> User:
    """The caller as a person with an account at the identity provider: neither an API key
    (``CredentialNotAllowedError``) nor the embedded binding's local user."""
    if actor.method is AuthMethod.API_KEY:
        raise CredentialNotAllowedError
    if actor.user.subject == LOCAL_USER_SUBJECT:
        raise PermissionDeniedError("The local user has no account at an identity provider.")
    return actor.user
