"""Confirming a person's address by mail, for identity providers that verify none (a plain
OIDC issuer that says ``email_verified: false``): with Keycloak, Keycloak sends its own link."""

from dataclasses import dataclass, replace
from datetime import timedelta
from uuid import UUID

from application.identity.access_gates import signed_in_person
from application.mail import OutgoingMail, mail_job
from application.ports.access_revocations import AccessRevocations, UserChanged
from application.ports.clock import Clock
from application.ports.metrics import Metrics
from application.ports.token_signer import CredentialRejectedError, TokenSigner
from application.ports.unit_of_work import UnitOfWork
from domain.audit.entities import AuditAction, AuditEvent
from domain.identity.entities import User, UserId
from domain.identity.errors import EmailAlreadyVerifiedError
from domain.identity.principals import Principal
from domain.shared.errors import DomainError

__all__ = (
    "CONFIRMATION_PATH",
    "ConfirmEmail",
    "ConfirmEmailRequest",
    "EmailConfirmationInvalidError",
    "SendEmailConfirmation",
    "SendEmailConfirmationRequest",
)

AUDIENCE = "email-confirmation"
CONFIRMATION_TTL = timedelta(hours=24)
RESEND_EVERY = timedelta(minutes=10)
"""At most one confirmation mail per person in this long, however often they ask."""
CONFIRMATION_PATH = "/api/user/email/confirm"


class EmailConfirmationInvalidError(DomainError):
    code = "email-confirmation-invalid"
    default_message = (
        "This confirmation link is not valid any more: it expired, or the address changed "
        "since it was sent. Ask for a new one."
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class SendEmailConfirmationRequest:
    actor: Principal


class SendEmailConfirmation:
    """Mail the caller a link (valid 24 hours) that confirms their address; at most one mail
    every ten minutes, however often it is asked for."""

    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        signer: TokenSigner,
        outgoing: OutgoingMail,
        metrics: Metrics,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._signer = signer
        self._outgoing = outgoing
        self._metrics = metrics

    async def execute(self, request: SendEmailConfirmationRequest) -> None:
        user = signed_in_person(request.actor)
        if user.email_verified:
            raise EmailAlreadyVerifiedError
        now = self._clock.now()
        token = self._signer.sign(
            {"sub": str(user.id_), "email": user.email.value},
            audience=AUDIENCE,
            issued_at=now,
            expires_at=now + CONFIRMATION_TTL,
        )
        message = self._outgoing.new_message(
            to=user.email.value,
            subject="Confirm your email address for Maestrist",
            text=(
                f"To confirm that {user.email.value} is your address on Maestrist, open this "
                f"link within 24 hours:\n\n    {self._outgoing.public_url}{CONFIRMATION_PATH}"
                f"?token={token}\n\nIf you did not ask for it, ignore this mail.\n"
            ),
        )
        window = int(now.timestamp() // RESEND_EVERY.total_seconds())
        job = mail_job(message, key=f"email-confirmation:{user.id_}:{window}")
        if await self._uow.jobs.enqueue(job, now):
            await self._uow.commit()
            self._metrics.job_enqueued(job.kind)


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfirmEmailRequest:
    token: str


class ConfirmEmail:
    """Follow a confirmation link: the address it was sent to is verified, if it is still the
    person's. Following it again changes nothing."""

    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        signer: TokenSigner,
        revocations: AccessRevocations,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._signer = signer
        self._revocations = revocations

    async def execute(self, request: ConfirmEmailRequest) -> User:
        now = self._clock.now()
        try:
            claims = self._signer.verify(request.token, audience=AUDIENCE, now=now)
            user_id = UserId(UUID(claims["sub"]))
            email = claims["email"]
        except (CredentialRejectedError, KeyError, ValueError):
            raise EmailConfirmationInvalidError from None
        user = await self._uow.users.get(user_id)
        if user is None or user.email.value != email:
            raise EmailConfirmationInvalidError
        if user.email_verified and user.confirmed_email == user.email:
            return user
        confirmed = replace(user, email_verified=True, confirmed_email=user.email)
        await self._uow.users.save(confirmed)
        await self._uow.audit.append(
            AuditEvent(
                occurred_at=now,
                action=AuditAction.EMAIL_CONFIRMED,
                actor_id=user.id_,
                org_id=None,
                target_type="user",
                target_id=str(user.id_),
                details={"email": email},
            )
        )
        await self._uow.commit()
        # What servers remember of this person (unverified) is read again at once.
        await self._revocations.publish([UserChanged(user.id_)])
        return confirmed
