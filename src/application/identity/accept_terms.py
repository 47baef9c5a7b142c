from dataclasses import dataclass, replace

from application.audit_trail import audit_in_every_org
from application.identity.access_gates import AccessPolicy
from application.ports.access_revocations import AccessRevocations, UserChanged
from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWork
from domain.audit.entities import AuditAction
from domain.identity.entities import User
from domain.identity.errors import TermsVersionMismatchError
from domain.identity.principals import Principal

__all__ = ("AcceptTerms", "AcceptTermsRequest", "AcceptTermsResult")


@dataclass(frozen=True, slots=True, kw_only=True)
class AcceptTermsRequest:
    actor: Principal
    version: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AcceptTermsResult:
    user: User


class AcceptTerms:
    """Record that the caller accepted the terms of service in force.

    The version sent must be the one in force, so nobody accepts terms they were not shown.
    The acceptance is audited in every organization the caller belongs to.
    """

    def __init__(
        self, uow: UnitOfWork, clock: Clock, policy: AccessPolicy, revocations: AccessRevocations
    ) -> None:
        self._revocations = revocations
        self._uow = uow
        self._clock = clock
        self._policy = policy

    async def execute(self, request: AcceptTermsRequest) -> AcceptTermsResult:
        current = self._policy.terms_version
        if current is None or request.version != current:
            raise TermsVersionMismatchError(
                f"The terms in force are version {current}." if current else "No terms apply."
            )
        user = request.actor.user
        if user.terms_accepted_version == current:
            return AcceptTermsResult(user=user)
        now = self._clock.now()
        accepted = replace(user, terms_accepted_version=current, terms_accepted_at=now)
        await self._uow.users.save(accepted)
        await audit_in_every_org(
            self._uow.orgs,
            self._uow.audit,
            user_id=user.id_,
            action=AuditAction.TERMS_ACCEPTED,
            occurred_at=now,
            target_type="user",
            target_ids=[str(user.id_)],
            details={"version": current},
        )
        await self._uow.commit()
        await self._revocations.publish([UserChanged(user.id_)])
        return AcceptTermsResult(user=accepted)
