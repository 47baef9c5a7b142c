import hmac
from dataclasses import dataclass, replace
from datetime import datetime

from application.analytics import ProductAnalytics
from application.audit_trail import audit_in_every_org
from application.errors import SignInRejectedError
from application.identity.brokered_tokens import BrokeredTokenCapture
from application.identity.sign_in_policy import SignInPolicy
from application.members.pending_invitations import PendingInvitations
from application.ports.access_revocations import AccessRevocations, UserChanged
from application.ports.clock import Clock
from application.ports.identity_provider import IdentityClaims, IdentityProvider
from application.ports.login_attempts import LoginAttemptStore
from application.ports.unit_of_work import UnitOfWork
from domain.audit.entities import AuditAction, AuditEvent
from domain.identity.entities import User, UserId
from domain.identity.errors import InvalidEmailError
from domain.identity.sessions import Session, SessionId, new_session_token, session_token_hash
from domain.identity.value_objects import (
    SUBJECT_MAX_LENGTH,
    EmailAddress,
    avatar_url,
    display_name,
    fits_subject,
)
from domain.organizations.entities import Organization
from domain.shared.ids import new_id

__all__ = ("CompleteSignIn", "CompleteSignInRequest", "CompleteSignInResult")


@dataclass(frozen=True, slots=True, kw_only=True)
class CompleteSignInRequest:
    state: str
    code: str
    browser_state: str | None = None
    """The state the calling browser kept when it started a sign-in (its cookie)."""
    user_agent: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CompleteSignInResult:
    session_token: str
    """The cookie value: shown to the browser only, stored only as a hash."""
    expires_at: datetime
    return_to: str
    user: User


class CompleteSignIn:
    """Finish a sign-in the provider sent back: one session, one user, all in one commit.

    The state must be one this server issued and not used before, and the browser calling
    back must be the one that started the sign-in (it holds the state in a cookie): a
    callback link from someone else's sign-in cannot sign this browser into their account.
    The ID token is validated
    by the provider adapter. The user is made on first sign-in, with a personal organization,
    and their email, verification, name and avatar follow the provider on every sign-in. A
    token the broker got from the upstream provider (GitHub...) is kept for later use. Pending
    invitations for the user's address are accepted when the provider verified it.

    Claims are held to what a user can hold: a subject over 255 characters or an unusable
    email refuses the sign-in (400), an overlong name is cut, and a picture that is not a
    short ``http(s)`` URL is dropped.

    The sign-in is reported to the product analytics when the person consented.
    """

    def __init__(
        self,
        provider: IdentityProvider,
        attempts: LoginAttemptStore,
        uow: UnitOfWork,
        clock: Clock,
        policy: SignInPolicy,
        brokered: BrokeredTokenCapture,
        invitations: PendingInvitations,
        revocations: AccessRevocations,
        analytics: ProductAnalytics,
    ) -> None:
        self._analytics = analytics
        self._invitations = invitations
        self._revocations = revocations
        self._brokered = brokered
        self._provider = provider
        self._attempts = attempts
        self._uow = uow
        self._clock = clock
        self._policy = policy

    async def execute(self, request: CompleteSignInRequest) -> CompleteSignInResult:
        if not request.browser_state or not hmac.compare_digest(
            request.browser_state.encode(), request.state.encode()
        ):
            raise SignInRejectedError(
                "This sign-in was not started in this browser (or its cookie expired); start "
                "it again here."
            )
        attempt = await self._attempts.take(request.state)
        if attempt is None:
            raise SignInRejectedError("This sign-in link expired or was already used.")
        result = await self._provider.complete(
            code=request.code,
            code_verifier=attempt.code_verifier,
            redirect_uri=self._policy.redirect_uri,
            nonce=attempt.nonce,
        )
        now = self._clock.now()
        user, profile_changed = await self._provision(result.claims, now)
        await self._invitations.accept_for(user, now)
        token = new_session_token()
        identity_provider = result.claims.identity_provider or attempt.idp_hint
        session = Session(
            id_=SessionId(new_id()),
            user_id=user.id_,
            token_hash=session_token_hash(token),
            tokens=result.tokens,
            created_at=now,
            last_seen_at=now,
            expires_at=result.tokens.refresh_expires_at or now + self._policy.session_max_age,
            identity_provider=(identity_provider or "")[:64] or None,
            user_agent=(request.user_agent or "")[:300] or None,
        )
        await self._uow.sessions.add(session)
        await self._brokered.capture(
            user_id=user.id_,
            identity_provider=session.identity_provider,
            access_token=result.tokens.access_token,
        )
        await audit_in_every_org(
            self._uow.orgs,
            self._uow.audit,
            user_id=user.id_,
            action=AuditAction.SIGNED_IN,
            occurred_at=now,
            target_type="session",
            target_ids=[str(session.id_)],
            details={"identity_provider": session.identity_provider or ""},
        )
        await self._uow.commit()
        if profile_changed:
            await self._revocations.publish([UserChanged(user.id_)])
        await self._analytics.signed_in(
            self._uow,
            user.id_,
            identity_provider=session.identity_provider,
            member_since=user.created_at,
        )
        return CompleteSignInResult(
            session_token=token,
            expires_at=session.expires_at,
            return_to=attempt.return_to,
            user=user,
        )

    async def _provision(self, claims: IdentityClaims, now: datetime) -> tuple[User, bool]:
        """The user these claims name, made or brought up to date, and whether a known user's
        profile changed."""
        if not fits_subject(claims.subject):
            raise SignInRejectedError(
                f"The identity provider identifies this account with a subject of "
                f"{len(claims.subject)} characters; this server takes 1 to {SUBJECT_MAX_LENGTH}."
            )
        try:
            email = EmailAddress(claims.email)
        except InvalidEmailError as exc:
            raise SignInRejectedError(
                f"The identity provider shared an email address this server cannot use: "
                f"{exc.message}"
            ) from None
        name = display_name(claims.name or "") or email.value.partition("@")[0][:200]
        picture = avatar_url(claims.picture)
        known = await self._uow.users.get_by_subject(claims.subject)
        if known is not None:
            updated = replace(
                known,
                email=email,
                # An address this server confirmed itself stays verified for this person.
                email_verified=claims.email_verified or known.confirmed_email == email,
                display_name=name,
                avatar_url=picture,
            )
            changed = _profile(updated) != _profile(known)
            if changed:
                await self._uow.users.save(updated)
            return updated, changed
        user = User(
            id_=UserId(new_id()),
            subject=claims.subject,
            email=email,
            email_verified=claims.email_verified,
            display_name=name,
            avatar_url=picture,
            created_at=now,
        )
        await self._uow.users.add(user)
        personal = Organization.personal_for(owner=user.id_, display_name=name, now=now)
        await self._uow.orgs.add(*personal)
        await self._uow.audit.append(
            AuditEvent(
                occurred_at=now,
                action=AuditAction.USER_PROVISIONED,
                actor_id=user.id_,
                org_id=personal[0].id_,
                target_type="user",
                target_id=str(user.id_),
                details={"subject": user.subject},
            )
        )
        return user, False


def _profile(user: User) -> tuple[EmailAddress, bool, str, str | None]:
    return (user.email, user.email_verified, user.display_name, user.avatar_url)
