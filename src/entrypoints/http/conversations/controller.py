from inspect import getdoc
from typing import Annotated
from uuid import UUID

from dishka import FromDishka
from dishka.integrations.litestar import inject
from litestar import Controller, Response, delete, get, patch, post
from litestar.enums import MediaType
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, HeaderParameter, JSONBody, QueryParameter

from application.conversations import (
    DeleteConversation,
    DeleteConversationRequest,
    GetConversation,
    GetConversationRequest,
    ListEvents,
    ListEventsRequest,
    PauseConversation,
    PauseConversationRequest,
    RenameConversation,
    RenameConversationRequest,
    RespondToConfirmation,
    RespondToConfirmationRequest,
    ResumeConversation,
    ResumeConversationRequest,
    SearchConversations,
    SearchConversationsRequest,
    SendMessage,
    SendMessageRequest,
    StartConversation,
    StartConversationRequest,
    StopConversation,
    StopConversationRequest,
)
from application.ports.org_repository import MemberOrganization
from application.rate_limits import CostlyAction
from domain.conversations.entities import MAX_SEQ, ConversationStatus
from domain.conversations.value_objects import ConversationId
from domain.identity.principals import Principal
from domain.identity.scopes import Scope
from domain.resolver.triggers import ConversationTrigger
from entrypoints.http.auth import READS_ONLY, requires
from entrypoints.http.conversations.schemas import (
    ConfirmationAnswer,
    ConversationCreate,
    ConversationList,
    ConversationOut,
    ConversationUpdate,
    EventList,
    EventOut,
    MessageCreate,
)
from entrypoints.http.rate_limits import costs

__all__ = ("ConversationController",)

READ = {**requires(Scope.CONVERSATIONS_READ), **READS_ONLY}
WRITE = requires(Scope.CONVERSATIONS_WRITE)

Statuses = Annotated[
    list[ConversationStatus] | None,
    QueryParameter(name="status", description="Any of these statuses; repeat to add one."),
]
RepositoryFilter = Annotated[
    str | None, QueryParameter(name="repository", description="owner/name.", max_length=255)
]
TitleFilter = Annotated[
    str | None, QueryParameter(name="title", description="Text in the title.", max_length=200)
]
Triggers = Annotated[
    list[ConversationTrigger] | None,
    QueryParameter(name="trigger", description="Started from any of these; repeat to add one."),
]
ParentFilter = Annotated[
    UUID | None, QueryParameter(name="parentId", description="Only this conversation's children.")
]
Cursor = Annotated[
    str | None,
    QueryParameter(name="cursor", description="nextCursor of the previous page.", max_length=100),
]
Limit = Annotated[int, QueryParameter(name="limit", description="Items a page.", ge=1, le=100)]
Prefer = Annotated[
    str | None,
    HeaderParameter(
        name="Prefer",
        required=False,
        max_length=1000,
        description=(
            "respond-async (RFC 7240): answer 202 as soon as the conversation is recorded; "
            "its start goes on, each phase shown as startPhase and as an event on its socket."
        ),
    ),
]

After = Annotated[
    int,
    QueryParameter(name="after", description="Events numbered above this.", ge=0, le=MAX_SEQ),
]
EventLimit = Annotated[
    int, QueryParameter(name="limit", description="Events a page.", ge=1, le=1000)
]


def prefers_async(prefer: str | None) -> bool:
    """Whether a ``Prefer`` header (RFC 7240: comma-separated preferences, each a token
    with optional ``=value`` and ``;`` parameters) asks for ``respond-async``."""
    if not prefer:
        return False
    return any(
        item.split(";", 1)[0].split("=", 1)[0].strip().lower() == "respond-async"
        for item in prefer.split(",")
    )


class ConversationController(Controller):
    path = "/api/conversations"
    tags = ["conversations"]  # noqa: RUF012

    @post(
        "/",
        operation_id="StartConversation",
        description=getdoc(StartConversation),
        opt={**WRITE, **costs(CostlyAction.START_CONVERSATION)},
        responses={
            202: ResponseSpec(
                ConversationOut,
                description="Recorded and starting (Prefer: respond-async): the start goes on; "
                "its phases show as startPhase and as events on the conversation's socket.",
            )
        },
    )
    @inject
    async def start(
        self,
        data: JSONBody[ConversationCreate],
        actor: FromDishka[Principal],
        org: FromDishka[MemberOrganization],
        use_case: FromDishka[StartConversation],
        prefer: Prefer = None,
    ) -> Response[ConversationOut]:
        wait = not prefers_async(prefer)
        started = await use_case.execute(
            StartConversationRequest(
                actor=actor,
                org=org,
                repository=data.repository,
                branch=data.branch,
                git_provider=data.git_provider,
                message=data.message,
                images=tuple(data.images),
                title=data.title,
                parent_id=None if data.parent_id is None else ConversationId(data.parent_id),
                wait=wait,
            )
        )
        headers = {"Location": f"{self.path}/{started.conversation.id_}"}
        if not wait:
            headers["Preference-Applied"] = "respond-async"
        return Response(
            ConversationOut.from_entity(started.conversation),
            status_code=201 if wait else 202,
            headers=headers,
        )

    @get("/", operation_id="SearchConversations", description=getdoc(SearchConversations), opt=READ)
    @inject
    async def search(
        self,
        actor: FromDishka[Principal],
        org: FromDishka[MemberOrganization],
        use_case: FromDishka[SearchConversations],
        statuses: Statuses = None,
        repository: RepositoryFilter = None,
        title: TitleFilter = None,
        parent: ParentFilter = None,
        triggers: Triggers = None,
        cursor: Cursor = None,
        limit: Limit = 20,
    ) -> ConversationList:
        page = await use_case.execute(
            SearchConversationsRequest(
                actor=actor,
                org=org,
                statuses=frozenset(statuses or ()),
                repository=repository,
                title=title,
                parent_id=None if parent is None else ConversationId(parent),
                triggers=frozenset(triggers or ()),
                cursor=cursor,
                limit=limit,
            )
        )
        return ConversationList(
            items=[ConversationOut.from_entity(c) for c in page.items],
            next_cursor=page.next_cursor,
        )

    @get(
        "/{conversation_id:uuid}",
        operation_id="GetConversation",
        description=getdoc(GetConversation),
        opt=READ,
    )
    @inject
    async def get_one(
        self,
        conversation_id: FromPath[UUID],
        actor: FromDishka[Principal],
        org: FromDishka[MemberOrganization],
        use_case: FromDishka[GetConversation],
    ) -> ConversationOut:
        found = await use_case.execute(
            GetConversationRequest(
                actor=actor, org=org, conversation_id=ConversationId(conversation_id)
            )
        )
        return ConversationOut.from_entity(found.conversation, found.experiments)

    @patch(
        "/{conversation_id:uuid}",
        operation_id="RenameConversation",
        description=getdoc(RenameConversation),
        opt=WRITE,
    )
    @inject
    async def rename(
        self,
        conversation_id: FromPath[UUID],
        data: JSONBody[ConversationUpdate],
        actor: FromDishka[Principal],
        org: FromDishka[MemberOrganization],
        use_case: FromDishka[RenameConversation],
    ) -> ConversationOut:
        renamed = await use_case.execute(
            RenameConversationRequest(
                actor=actor,
                org=org,
                conversation_id=ConversationId(conversation_id),
                title=data.title,
            )
        )
        return ConversationOut.from_entity(renamed.conversation)

    @delete(
        "/{conversation_id:uuid}",
        operation_id="DeleteConversation",
        description=getdoc(DeleteConversation),
        opt=WRITE,
    )
    @inject
    async def delete_one(
        self,
        conversation_id: FromPath[UUID],
        actor: FromDishka[Principal],
        org: FromDishka[MemberOrganization],
        use_case: FromDishka[DeleteConversation],
    ) -> None:
        await use_case.execute(
            DeleteConversationRequest(
                actor=actor, org=org, conversation_id=ConversationId(conversation_id)
            )
        )

    @post(
        "/{conversation_id:uuid}/messages",
        operation_id="SendMessage",
        description=getdoc(SendMessage),
        opt={**WRITE, **costs(CostlyAction.SEND_MESSAGE)},
        status_code=202,
        media_type=MediaType.TEXT,  # so that no return value is an empty body, not `null`
    )
    @inject
    async def send_message(
        self,
        conversation_id: FromPath[UUID],
        data: JSONBody[MessageCreate],
        actor: FromDishka[Principal],
        org: FromDishka[MemberOrganization],
        use_case: FromDishka[SendMessage],
    ) -> None:
        await use_case.execute(
            SendMessageRequest(
                actor=actor,
                org=org,
                conversation_id=ConversationId(conversation_id),
                text=data.text,
                images=tuple(data.images),
            )
        )

    @post(
        "/{conversation_id:uuid}/pause",
        operation_id="PauseConversation",
        description=getdoc(PauseConversation),
        opt=WRITE,
        status_code=202,
        media_type=MediaType.TEXT,  # so that no return value is an empty body, not `null`
    )
    @inject
    async def pause(
        self,
        conversation_id: FromPath[UUID],
        actor: FromDishka[Principal],
        org: FromDishka[MemberOrganization],
        use_case: FromDishka[PauseConversation],
    ) -> None:
        await use_case.execute(
            PauseConversationRequest(
                actor=actor, org=org, conversation_id=ConversationId(conversation_id)
            )
        )

    @post(
        "/{conversation_id:uuid}/resume",
        operation_id="ResumeConversation",
        description=getdoc(ResumeConversation),
        opt=WRITE,
        status_code=202,
        media_type=MediaType.TEXT,  # so that no return value is an empty body, not `null`
    )
    @inject
    async def resume(
        self,
        conversation_id: FromPath[UUID],
        actor: FromDishka[Principal],
        org: FromDishka[MemberOrganization],
        use_case: FromDishka[ResumeConversation],
    ) -> None:
        await use_case.execute(
            ResumeConversationRequest(
                actor=actor, org=org, conversation_id=ConversationId(conversation_id)
            )
        )

    @post(
        "/{conversation_id:uuid}/stop",
        operation_id="StopConversation",
        description=getdoc(StopConversation),
        opt=WRITE,
        status_code=202,
        media_type=MediaType.TEXT,  # so that no return value is an empty body, not `null`
    )
    @inject
    async def stop(
        self,
        conversation_id: FromPath[UUID],
        actor: FromDishka[Principal],
        org: FromDishka[MemberOrganization],
        use_case: FromDishka[StopConversation],
    ) -> None:
        await use_case.execute(
            StopConversationRequest(
                actor=actor, org=org, conversation_id=ConversationId(conversation_id)
            )
        )

    @post(
        "/{conversation_id:uuid}/confirmation",
        operation_id="RespondToConfirmation",
        description=getdoc(RespondToConfirmation),
        opt=WRITE,
        status_code=202,
        media_type=MediaType.TEXT,  # so that no return value is an empty body, not `null`
    )
    @inject
    async def confirm(
        self,
        conversation_id: FromPath[UUID],
        data: JSONBody[ConfirmationAnswer],
        actor: FromDishka[Principal],
        org: FromDishka[MemberOrganization],
        use_case: FromDishka[RespondToConfirmation],
    ) -> None:
        await use_case.execute(
            RespondToConfirmationRequest(
                actor=actor,
                org=org,
                conversation_id=ConversationId(conversation_id),
                accept=data.accept,
                reason=data.reason,
            )
        )

    @get(
        "/{conversation_id:uuid}/events",
        operation_id="ListConversationEvents",
        description=getdoc(ListEvents),
        opt=READ,
    )
    @inject
    async def events(
        self,
        conversation_id: FromPath[UUID],
        actor: FromDishka[Principal],
        org: FromDishka[MemberOrganization],
        use_case: FromDishka[ListEvents],
        after: After = 0,
        limit: EventLimit = 100,
    ) -> EventList:
        page = await use_case.execute(
            ListEventsRequest(
                actor=actor,
                org=org,
                conversation_id=ConversationId(conversation_id),
                after=after,
                limit=limit,
            )
        )
        return EventList(
            items=[EventOut.from_entity(e) for e in page.items], next_after=page.next_after
        )
