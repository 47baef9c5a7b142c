from dataclasses import dataclass

from application.identity.access_gates import signed_in_person
from application.ports.identity_admin import IdentityAdmin
from domain.identity.errors import EmailAlreadyVerifiedError
from domain.identity.principals import Principal

__all__ = ("ResendVerificationEmail", "ResendVerificationEmailRequest")


@dataclass(frozen=True, slots=True, kw_only=True)
class ResendVerificationEmailRequest:
    actor: Principal


class ResendVerificationEmail:
    """Send the verification link for the caller's email again."""

    def __init__(self, admin: IdentityAdmin) -> None:
        self._admin = admin

    async def execute(self, request: ResendVerificationEmailRequest) -> None:
        user = signed_in_person(request.actor)
        if user.email_verified:
            raise EmailAlreadyVerifiedError
        await self._admin.send_verification_email(user.subject)
