from collections.abc import Mapping
from datetime import datetime

from application.ports.audit_log import AuditLog
from application.ports.org_repository import OrgRepository
from domain.audit.entities import AuditAction, AuditEvent
from domain.identity.entities import UserId

__all__ = ("audit_in_every_org",)


async def audit_in_every_org(
    orgs: OrgRepository,
    audit: AuditLog,
    *,
    user_id: UserId,
    action: AuditAction,
    occurred_at: datetime,
    target_type: str,
    target_ids: list[str],
    details: Mapping[str, str],
) -> None:
    """Record what a person did to their own account in the log of every org they belong to,
    so each org's admins see the sign-ins, sign-outs and acceptances of their members."""
    for view in await orgs.list_for_member(user_id):
        for target_id in target_ids:
            await audit.append(
                AuditEvent(
                    occurred_at=occurred_at,
                    action=action,
                    actor_id=user_id,
                    org_id=view.organization.id_,
                    target_type=target_type,
                    target_id=target_id,
                    details=details,
                )
            )
