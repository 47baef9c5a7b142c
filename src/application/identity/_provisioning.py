"""A new user, stored with the personal organization every user has, audited."""

from datetime import datetime

from application.ports.unit_of_work import UnitOfWork
from domain.audit.entities import AuditAction, AuditEvent
from domain.identity.entities import User
from domain.organizations.entities import Organization

__all__ = ("add_personal_org", "add_user")


async def add_personal_org(uow: UnitOfWork, user: User, now: datetime) -> None:
    org, owner = Organization.personal_for(owner=user.id_, display_name=user.display_name, now=now)
    await uow.orgs.add(org, owner)


async def add_user(uow: UnitOfWork, user: User, now: datetime, **details: str) -> None:
    """Store ``user`` and its personal organization, with a ``user.provisioned`` audit event
    carrying its subject and ``details``; the caller commits."""
    await uow.users.add(user)
    await uow.audit.append(
        AuditEvent(
            occurred_at=now,
            action=AuditAction.USER_PROVISIONED,
            actor_id=user.id_,
            org_id=None,
            target_type="user",
            target_id=str(user.id_),
            details={"subject": user.subject, **details},
        )
    )
    await add_personal_org(uow, user, now)
