import base64
import binascii
import uuid
from enum import StrEnum
from typing import Any

from sqlalchemy import Row, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sqlalchemy.errors import translate_db_errors
from adapters.sqlalchemy.models import ConversationRow, OrganizationRow
from application.ports.conversation_repository import (
    ConversationFilter,
    ConversationPage,
    ConversationRepository,
)
from domain.billing.holds import BillingHold
from domain.billing.usage import LlmPayer
from domain.conversations.entities import (
    ENDED,
    Conversation,
    ConversationStatus,
    ConversationTitle,
    RepositoryName,
    Tenant,
)
from domain.conversations.value_objects import ConversationId, StartPhase
from domain.git.providers import ProviderKind
from domain.identity.entities import UserId
from domain.organizations.entities import OrgId
from domain.resolver.triggers import ConversationTrigger
from domain.shared.errors import InvalidValueError

__all__ = ("SqlaConversationRepository", "decode_cursor", "encode_cursor")

_HOLDING = sorted(status.value for status in ConversationStatus if status.holds_runtime)


def encode_cursor(conversation_id: ConversationId) -> str:
    """Ids are time-ordered, so the last id of a page is where the next one starts."""
    return base64.urlsafe_b64encode(b"c1" + conversation_id.bytes).decode().rstrip("=")


def decode_cursor(cursor: str) -> ConversationId:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 18 or not raw.startswith(b"c1"):
        raise InvalidValueError("This cursor was not handed out by this list.", field="cursor")
    return ConversationId(uuid.UUID(bytes=raw[2:]))


def _to_entity(row: ConversationRow | Row[Any]) -> Conversation:
    return Conversation(
        id_=ConversationId(row.id),
        tenant=Tenant(OrgId(row.org_id), UserId(row.user_id)),
        title=None if row.title is None else ConversationTitle(row.title),
        repository=None if row.repository is None else RepositoryName(row.repository),
        branch=row.branch,
        git_provider=None if row.git_provider is None else ProviderKind(row.git_provider),
        parent_id=None if row.parent_id is None else ConversationId(row.parent_id),
        status=ConversationStatus(row.status),
        status_reason=row.status_reason,
        start_phase=None if row.start_phase is None else StartPhase(row.start_phase),
        max_budget_usd=row.max_budget_usd,
        cost_usd=row.cost_usd,
        prompt_tokens=row.prompt_tokens,
        completion_tokens=row.completion_tokens,
        active_seconds=row.active_seconds,
        llm_payer=None if row.llm_payer is None else LlmPayer(row.llm_payer),
        billing_hold=None if row.billing_hold is None else BillingHold(row.billing_hold),
        trigger=ConversationTrigger(row.trigger),
        origin_url=row.origin_url,
        pull_requests=tuple((row.pull_requests or "").split()),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _phase(conversation: Conversation) -> str | None:
    return _value(conversation.start_phase)


def _value(member: StrEnum | None) -> str | None:
    return None if member is None else member.value


class SqlaConversationRepository(ConversationRepository):
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, conversation: Conversation) -> None:
        async with translate_db_errors():
            self._session.add(
                ConversationRow(
                    id=conversation.id_,
                    org_id=conversation.tenant.org_id,
                    user_id=conversation.tenant.user_id,
                    title=None if conversation.title is None else conversation.title.value,
                    repository=(
                        None if conversation.repository is None else conversation.repository.value
                    ),
                    branch=conversation.branch,
                    git_provider=(
                        None
                        if conversation.git_provider is None
                        else conversation.git_provider.value
                    ),
                    parent_id=conversation.parent_id,
                    status=conversation.status.value,
                    status_reason=conversation.status_reason,
                    start_phase=_phase(conversation),
                    max_budget_usd=conversation.max_budget_usd,
                    cost_usd=conversation.cost_usd,
                    prompt_tokens=conversation.prompt_tokens,
                    completion_tokens=conversation.completion_tokens,
                    active_seconds=conversation.active_seconds,
                    llm_payer=_value(conversation.llm_payer),
                    billing_hold=_value(conversation.billing_hold),
                    trigger=conversation.trigger.value,
                    origin_url=conversation.origin_url,
                    pull_requests="\n".join(conversation.pull_requests) or None,
                    created_at=conversation.created_at,
                    updated_at=conversation.updated_at,
                )
            )
            await self._session.flush()

    async def get(self, tenant: Tenant, conversation_id: ConversationId) -> Conversation | None:
        query = select(ConversationRow).where(
            ConversationRow.id == conversation_id,
            ConversationRow.org_id == tenant.org_id,
            ConversationRow.user_id == tenant.user_id,
        )
        async with translate_db_errors():
            row = await self._session.scalar(query)
        return None if row is None else _to_entity(row)

    async def get_for_owner(self, conversation_id: ConversationId) -> Conversation | None:
        async with translate_db_errors():
            row = await self._session.scalar(
                select(ConversationRow).where(ConversationRow.id == conversation_id)
            )
        return None if row is None else _to_entity(row)

    async def search(
        self,
        tenant: Tenant,
        criteria: ConversationFilter,
        *,
        cursor: str | None = None,
        limit: int = 20,
    ) -> ConversationPage:
        # plain rows, not ORM instances: a page is only read, never changed through the session
        query = select(ConversationRow.__table__).where(
            ConversationRow.org_id == tenant.org_id, ConversationRow.user_id == tenant.user_id
        )
        if criteria.statuses:
            query = query.where(ConversationRow.status.in_(sorted(criteria.statuses)))
        if criteria.repository is not None:
            query = query.where(ConversationRow.repository == criteria.repository)
        if criteria.parent_id is not None:
            query = query.where(ConversationRow.parent_id == criteria.parent_id)
        if criteria.triggers:
            query = query.where(
                ConversationRow.trigger.in_(sorted(t.value for t in criteria.triggers))
            )
        if criteria.title_contains:
            query = query.where(
                func.lower(ConversationRow.title).contains(
                    criteria.title_contains.lower(), autoescape=True
                )
            )
        if cursor is not None:
            query = query.where(ConversationRow.id < decode_cursor(cursor))
        query = query.order_by(ConversationRow.id.desc()).limit(limit + 1)
        async with translate_db_errors():
            rows = list((await self._session.execute(query)).all())
        items = [_to_entity(row) for row in rows[:limit]]
        more = len(rows) > limit
        return ConversationPage(
            items=items, next_cursor=encode_cursor(items[-1].id_) if more and items else None
        )

    async def save(self, conversation: Conversation) -> None:
        statement = (
            update(ConversationRow)
            .where(ConversationRow.id == conversation.id_)
            .values(
                status=conversation.status.value,
                status_reason=conversation.status_reason,
                start_phase=_phase(conversation),
                cost_usd=conversation.cost_usd,
                prompt_tokens=conversation.prompt_tokens,
                completion_tokens=conversation.completion_tokens,
                active_seconds=conversation.active_seconds,
                billing_hold=_value(conversation.billing_hold),
                pull_requests="\n".join(conversation.pull_requests) or None,
                updated_at=conversation.updated_at,
            )
        )
        async with translate_db_errors():
            await self._session.execute(statement)

    async def billing_held(self, org_id: OrgId, hold: BillingHold) -> list[Conversation]:
        query = (
            select(ConversationRow)
            .where(ConversationRow.org_id == org_id, ConversationRow.billing_hold == hold.value)
            .order_by(ConversationRow.id)
        )
        async with translate_db_errors():
            return [_to_entity(row) for row in (await self._session.scalars(query)).all()]

    async def rename(
        self, tenant: Tenant, conversation_id: ConversationId, title: ConversationTitle
    ) -> bool:
        statement = (
            update(ConversationRow)
            .where(
                ConversationRow.id == conversation_id,
                ConversationRow.org_id == tenant.org_id,
                ConversationRow.user_id == tenant.user_id,
            )
            .values(title=title.value)
        )
        async with translate_db_errors():
            result = await self._session.execute(statement)
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def delete(self, tenant: Tenant, conversation_id: ConversationId) -> bool:
        statement = delete(ConversationRow).where(
            ConversationRow.id == conversation_id,
            ConversationRow.org_id == tenant.org_id,
            ConversationRow.user_id == tenant.user_id,
        )
        async with translate_db_errors():
            result = await self._session.execute(statement)
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def lock_admissions(self, org_id: OrgId) -> None:
        """On SQLite a write takes the database's one writer lock, and the reads after it see
        the last commit; on PostgreSQL the organization's row is locked ``FOR NO KEY UPDATE``,
        which leaves rows that merely reference it free to be inserted."""
        async with translate_db_errors():
            if self._session.get_bind().dialect.name == "sqlite":
                await self._session.execute(
                    update(OrganizationRow)
                    .where(OrganizationRow.id == org_id)
                    .values(name=OrganizationRow.name)
                )
            else:
                await self._session.execute(
                    select(OrganizationRow.id)
                    .where(OrganizationRow.id == org_id)
                    .with_for_update(key_share=True)
                )

    async def holding_runtime(
        self, org_id: OrgId, user_id: UserId | None = None
    ) -> list[Conversation]:
        query = select(ConversationRow).where(
            ConversationRow.org_id == org_id, ConversationRow.status.in_(_HOLDING)
        )
        if user_id is not None:
            query = query.where(ConversationRow.user_id == user_id)
        query = query.order_by(ConversationRow.updated_at, ConversationRow.id)
        async with translate_db_errors():
            rows = (await self._session.scalars(query)).all()
        return [_to_entity(row) for row in rows]

    async def unfinished(self) -> list[ConversationId]:
        query = (
            select(ConversationRow.id)
            .where(ConversationRow.status.not_in(sorted(status.value for status in ENDED)))
            .order_by(ConversationRow.id)
        )
        async with translate_db_errors():
            ids = (await self._session.scalars(query)).all()
        return [ConversationId(found) for found in ids]

    async def count_unfinished(self) -> dict[ConversationStatus, int]:
        query = (
            select(ConversationRow.status, func.count())
            .where(ConversationRow.status.not_in(sorted(status.value for status in ENDED)))
            .group_by(ConversationRow.status)
        )
        async with translate_db_errors():
            rows = (await self._session.execute(query)).all()
        return {ConversationStatus(status): count for status, count in rows}
