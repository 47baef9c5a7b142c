from inspect import getdoc
from typing import Annotated
from uuid import UUID

from dishka import FromDishka
from dishka.integrations.litestar import inject
from litestar import Controller, Response, delete, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter

from application.members import (
    AddMember,
    AddMemberRequest,
    ChangeMemberRole,
    ChangeMemberRoleRequest,
    ListAuditEvents,
    ListAuditEventsRequest,
    ListMembers,
    ListMembersRequest,
    RemoveMember,
    RemoveMemberRequest,
    TransferOwnership,
    TransferOwnershipRequest,
)
from domain.identity.entities import UserId
from domain.identity.principals import Principal
from domain.identity.scopes import Scope
from domain.organizations.entities import OrgId
from entrypoints.http.auth import requires
from entrypoints.http.members.schemas import (
    AuditEventList,
    AuditEventOut,
    MemberAdd,
    MemberList,
    MemberOut,
    MemberRoleUpdate,
    OwnershipTransfer,
    decode_audit_cursor,
    encode_audit_cursor,
)

__all__ = ("MemberController",)

ADMIN = requires(Scope.ORG_ADMIN)


class MemberController(Controller):
    path = "/api/orgs/{org_id:uuid}"
    tags = ["organizations"]  # noqa: RUF012

    @get("/members", operation_id="ListMembers", description=getdoc(ListMembers))
    @inject
    async def list_members(
        self,
        org_id: FromPath[UUID],
        actor: FromDishka[Principal],
        use_case: FromDishka[ListMembers],
    ) -> MemberList:
        listed = await use_case.execute(ListMembersRequest(actor=actor, org_id=OrgId(org_id)))
        return MemberList(items=[MemberOut.from_view(m) for m in listed.members])

    @post("/members", operation_id="AddMember", description=getdoc(AddMember), opt=ADMIN)
    @inject
    async def add_member(
        self,
        org_id: FromPath[UUID],
        data: JSONBody[MemberAdd],
        actor: FromDishka[Principal],
        use_case: FromDishka[AddMember],
    ) -> Response[MemberOut]:
        added = await use_case.execute(
            AddMemberRequest(actor=actor, org_id=OrgId(org_id), email=data.email, role=data.role)
        )
        return Response(MemberOut.from_view(added.member), status_code=201)

    @patch(
        "/members/{user_id:uuid}",
        operation_id="ChangeMemberRole",
        description=getdoc(ChangeMemberRole),
        opt=ADMIN,
        status_code=204,
    )
    @inject
    async def change_role(
        self,
        org_id: FromPath[UUID],
        user_id: FromPath[UUID],
        data: JSONBody[MemberRoleUpdate],
        actor: FromDishka[Principal],
        use_case: FromDishka[ChangeMemberRole],
    ) -> None:
        await use_case.execute(
            ChangeMemberRoleRequest(
                actor=actor, org_id=OrgId(org_id), user_id=UserId(user_id), role=data.role
            )
        )

    @delete(
        "/members/{user_id:uuid}", operation_id="RemoveMember", description=getdoc(RemoveMember)
    )
    @inject
    async def remove_member(
        self,
        org_id: FromPath[UUID],
        user_id: FromPath[UUID],
        actor: FromDishka[Principal],
        use_case: FromDishka[RemoveMember],
    ) -> None:
        await use_case.execute(
            RemoveMemberRequest(actor=actor, org_id=OrgId(org_id), user_id=UserId(user_id))
        )

    @post(
        "/transfer",
        operation_id="TransferOwnership",
        description=getdoc(TransferOwnership),
        opt=ADMIN,
        status_code=204,
    )
    @inject
    async def transfer(
        self,
        org_id: FromPath[UUID],
        data: JSONBody[OwnershipTransfer],
        actor: FromDishka[Principal],
        use_case: FromDishka[TransferOwnership],
    ) -> None:
        await use_case.execute(
            TransferOwnershipRequest(
                actor=actor, org_id=OrgId(org_id), new_owner=UserId(data.user_id)
            )
        )

    @get("/audit", operation_id="ListAuditEvents", description=getdoc(ListAuditEvents), opt=ADMIN)
    @inject
    async def audit(
        self,
        org_id: FromPath[UUID],
        actor: FromDishka[Principal],
        use_case: FromDishka[ListAuditEvents],
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
        cursor: Annotated[str | None, QueryParameter(max_length=200)] = None,
    ) -> AuditEventList:
        found = await use_case.execute(
            ListAuditEventsRequest(
                actor=actor,
                org_id=OrgId(org_id),
                limit=limit,
                before=None if cursor is None else decode_audit_cursor(cursor),
            )
        )
        events = found.events
        last = events[-1] if len(events) == limit else None
        return AuditEventList(
            items=[AuditEventOut.from_entity(e) for e in events],
            next_cursor=None if last is None else encode_audit_cursor(last),
        )
