from inspect import getdoc
from uuid import UUID

from dishka import FromDishka
from dishka.integrations.litestar import inject
from litestar import Controller, Response, delete, get, post
from litestar.params import FromPath, JSONBody

from application.members import (
    InviteMember,
    InviteMemberRequest,
    ListInvitations,
    ListInvitationsRequest,
    RevokeInvitation,
    RevokeInvitationRequest,
)
from application.ports.clock import Clock
from domain.identity.principals import Principal
from domain.identity.scopes import Scope
from domain.organizations.entities import OrgId
from domain.organizations.invitations import InvitationId
from entrypoints.http.auth import requires
from entrypoints.http.members.schemas import InvitationCreate, InvitationList, InvitationOut

__all__ = ("InvitationController",)

ADMIN = requires(Scope.ORG_ADMIN)


class InvitationController(Controller):
    path = "/api/orgs/{org_id:uuid}/invitations"
    tags = ["organizations"]  # noqa: RUF012

    @post("/", operation_id="InviteMember", description=getdoc(InviteMember), opt=ADMIN)
    @inject
    async def invite(
        self,
        org_id: FromPath[UUID],
        data: JSONBody[InvitationCreate],
        actor: FromDishka[Principal],
        clock: FromDishka[Clock],
        use_case: FromDishka[InviteMember],
    ) -> Response[InvitationOut]:
        invited = await use_case.execute(
            InviteMemberRequest(actor=actor, org_id=OrgId(org_id), email=data.email, role=data.role)
        )
        invitation = invited.invitation
        return Response(
            InvitationOut.from_entity(invitation, clock.now()),
            status_code=201,
            headers={"Location": f"/api/orgs/{org_id}/invitations/{invitation.id_}"},
        )

    @get("/", operation_id="ListInvitations", description=getdoc(ListInvitations), opt=ADMIN)
    @inject
    async def list_open(
        self,
        org_id: FromPath[UUID],
        actor: FromDishka[Principal],
        clock: FromDishka[Clock],
        use_case: FromDishka[ListInvitations],
    ) -> InvitationList:
        listed = await use_case.execute(ListInvitationsRequest(actor=actor, org_id=OrgId(org_id)))
        now = clock.now()
        return InvitationList(items=[InvitationOut.from_entity(i, now) for i in listed.invitations])

    @delete(
        "/{invitation_id:uuid}",
        operation_id="RevokeInvitation",
        description=getdoc(RevokeInvitation),
        opt=ADMIN,
    )
    @inject
    async def revoke(
        self,
        org_id: FromPath[UUID],
        invitation_id: FromPath[UUID],
        actor: FromDishka[Principal],
        use_case: FromDishka[RevokeInvitation],
    ) -> None:
        await use_case.execute(
            RevokeInvitationRequest(
                actor=actor, org_id=OrgId(org_id), invitation_id=InvitationId(invitation_id)
            )
        )
