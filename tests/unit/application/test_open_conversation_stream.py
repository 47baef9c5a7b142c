"""OpenConversationStream on fakes and the scripted runtime: the read scope opens a stream, the
write scope sends on it, every send checks the credential again from scratch, and only the
revocations that may end its access concern it."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import timedelta
from uuid import uuid4

import pytest

from adapters.memory import (
    InProcessAccessRevocations,
    InProcessEventFanOut,
    InProcessIngestLeases,
)
from adapters.scripted import ScriptedRuntime, ScriptedWorld
from application.billing import BudgetPolicy, FundsCheck, UsageAccounting
from application.conversations import (
    CallbackProcessors,
    ConcurrencyGate,
    ConversationAccessCheck,
    ConversationDefaults,
    ConversationFeed,
    ConversationIngest,
    ConversationLimits,
    MessageDelivery,
    OpenConversationStream,
    OpenConversationStreamRequest,
    StreamAccessLostError,
    StreamTurn,
    StreamTurns,
)
from application.conversations.git_access import RuntimeGitAccess
from application.errors import (
    EmailNotVerifiedError,
    MissingScopeError,
    NotAuthenticatedError,
    TermsNotAcceptedError,
)
from application.git.runtime_credentials import RuntimeCredentialTtl, RuntimeGitCredentials
from application.identity.access_gates import AccessPolicy
from application.identity.authenticator import Authenticator
from application.identity.principal_cache import PrincipalCache
from application.organizations.active_org import ActiveOrgResolver
from application.ports.access_revocations import (
    ApiKeyRevoked,
    MembershipChanged,
    RevocationsMissed,
    SessionRevoked,
)
from domain.conversations.entities import Conversation, Tenant
from domain.conversations.errors import ConversationNotFoundError
from domain.conversations.value_objects import ConversationId, StartSpec
from domain.identity.api_keys import ApiKeyId
from domain.identity.principals import AuthMethod, Credentials, Principal
from domain.identity.scopes import Scope
from domain.identity.sessions import SessionId
from domain.organizations.entities import OrgId
from domain.shared.ids import new_id
from tests.factories import T0, create_org, create_user
from tests.fakes import FakeClock, FakeStore, FakeUnitOfWork
from tests.fakes.metrics import FakeMetrics
from tests.fakes.token_signer import FakeTokenSigner
from tests.fakes.unit_of_work import FakeUnitsOfWork

READ_ONLY = frozenset({Scope.CONVERSATIONS_READ})


class StandIn(Authenticator):
    """Proves whoever ``actor`` is at the moment; nobody once it is None."""

    def __init__(self, actor: Principal | None) -> None:
        self.actor = actor
        self.asked = 0

    async def authenticate(self, credentials: Credentials) -> Principal | None:
        self.asked += 1
        return self.actor


@dataclass
class Rig:
    store: FakeStore
    world: ScriptedWorld
    authenticator: StandIn
    conversation: Conversation
    ingest: ConversationIngest
    policy: AccessPolicy = field(default_factory=AccessPolicy)

    def sut(self) -> OpenConversationStream:
        runtime = ScriptedRuntime(self.world)
        clock = FakeClock()
        credentials = RuntimeGitCredentials(
            FakeTokenSigner(), clock, RuntimeCredentialTtl(timedelta(minutes=10))
        )
        defaults = ConversationDefaults(workspace_root="/w", git_token_url="https://x/t")

        @asynccontextmanager
        async def turn() -> AsyncIterator[StreamTurn]:
            uow = FakeUnitOfWork(self.store)
            yield StreamTurn(
                uow=uow,
                access=ConversationAccessCheck(
                    self.authenticator,
                    self.policy,
                    ActiveOrgResolver(uow, PrincipalCache(clock, timedelta(0))),
                    uow,
                ),
                delivery=MessageDelivery(
                    uow,
                    runtime,
                    ConcurrencyGate(uow, runtime, ConversationLimits(), clock),
                    RuntimeGitAccess(credentials, defaults, runtime),
                    FundsCheck(BudgetPolicy()),
                    clock,
                ),
            )
            await uow.rollback()

        return OpenConversationStream(
            StreamTurns(turn),
            ConversationFeed(InProcessEventFanOut(), FakeUnitsOfWork(self.store)),
            self.ingest,
            InProcessAccessRevocations(),
        )

    def request(self) -> OpenConversationStreamRequest:
        return OpenConversationStreamRequest(
            credentials=Credentials(),
            requested_org=self.conversation.tenant.org_id,
            conversation_id=self.conversation.id_,
        )


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    store = FakeStore()
    user = create_user()
    org, membership = create_org(user)
    store.live.users[user.id_] = user
    store.live.orgs[org.id_] = org
    store.live.memberships[(org.id_, user.id_)] = membership
    world = ScriptedWorld()
    conversation = Conversation(
        id_=ConversationId(new_id()), tenant=Tenant(org.id_, user.id_), created_at=T0, updated_at=T0
    )
    store.live.conversations[conversation.id_] = conversation
    store.commit()
    ingest = ConversationIngest(
        ScriptedRuntime(world),
        InProcessIngestLeases(),
        InProcessEventFanOut(),
        FakeUnitsOfWork(store),
        FakeClock(),
        CallbackProcessors(),
        metrics=FakeMetrics(),
        accounting=UsageAccounting(BudgetPolicy()),
    )
    actor = Principal(user=user, method=AuthMethod.SESSION, credential_id=uuid4())
    yield Rig(store, world, StandIn(actor), conversation, ingest)
    await ingest.aclose()
    await world.aclose()


async def test_the_read_scope_opens_a_stream_that_cannot_send_without_the_write_scope(
    rig: Rig,
) -> None:
    assert rig.authenticator.actor is not None
    rig.authenticator.actor = replace(rig.authenticator.actor, scopes=READ_ONLY)
    stream = (await rig.sut().execute(rig.request())).stream
    try:
        with pytest.raises(MissingScopeError) as refused:
            await stream.send("Hello")
        assert "conversations:write" in refused.value.message
        assert rig.authenticator.asked == 2
    finally:
        await stream.aclose()


async def test_a_read_only_stream_never_reaches_the_runtime_and_a_writer_does(
    rig: Rig,
) -> None:
    """The runtime holds the conversation, so only the scope check stands between the
    read-only send and the agent; the same send with the write scope gets through."""
    runtime = ScriptedRuntime(rig.world)
    await runtime.start(
        StartSpec(conversation_id=rig.conversation.id_, model="m", workspace_dir="/w")
    )
    log = rig.world.conversations[rig.conversation.id_].log
    actor = rig.authenticator.actor
    assert actor is not None
    rig.authenticator.actor = replace(actor, scopes=READ_ONLY)
    stream = (await rig.sut().execute(rig.request())).stream
    try:
        with pytest.raises(MissingScopeError):
            await stream.send("Read-only")
        assert log == []
        rig.authenticator.actor = replace(actor, scopes=READ_ONLY | {Scope.CONVERSATIONS_WRITE})
        await stream.send("Writer", ["https://example.com/screenshot.png"])
        said = [e.payload["llm_message"] for e in log if e.kind == "MessageEvent"]
        assert said == [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Writer"},
                    {"type": "image", "image_urls": ["https://example.com/screenshot.png"]},
                ],
            }
        ]
    finally:
        await stream.aclose()


async def test_opening_a_stream_and_sending_on_it_follow_the_conversation(rig: Rig) -> None:
    """A watcher sees events even of a conversation no server followed (one let go once it
    ended), and a message sent on the socket is followed as one sent over HTTP is."""
    runtime = ScriptedRuntime(rig.world)
    await runtime.start(
        StartSpec(conversation_id=rig.conversation.id_, model="m", workspace_dir="/w")
    )
    cid = rig.conversation.id_
    assert not rig.ingest.following(cid)
    stream = (await rig.sut().execute(rig.request())).stream
    try:
        assert rig.ingest.following(cid)
        await rig.ingest.aclose()  # nobody follows it now
        assert not rig.ingest.following(cid)
        await stream.send("Again")
        assert rig.ingest.following(cid)
    finally:
        await stream.aclose()


async def test_a_stream_needs_the_read_scope_and_the_owners_conversation(rig: Rig) -> None:
    actor = rig.authenticator.actor
    assert actor is not None
    rig.authenticator.actor = replace(actor, scopes=frozenset({Scope.CONVERSATIONS_WRITE}))
    with pytest.raises(MissingScopeError):
        await rig.sut().execute(rig.request())
    rig.authenticator.actor = actor
    other = replace(rig.request(), conversation_id=ConversationId(new_id()))
    with pytest.raises(ConversationNotFoundError):
        await rig.sut().execute(other)


async def test_the_gates_every_route_keeps_keep_streams_too(rig: Rig) -> None:
    """An address not verified, or the terms in force not accepted, keep a person out of a
    conversation's stream as out of every route; and terms published while a stream is open
    stop its next send, as a revoked credential does."""
    actor = rig.authenticator.actor
    assert actor is not None
    rig.authenticator.actor = replace(actor, user=replace(actor.user, email_verified=False))
    with pytest.raises(EmailNotVerifiedError):
        await rig.sut().execute(rig.request())
    rig.authenticator.actor = actor
    stream = (await rig.sut().execute(rig.request())).stream
    try:
        rig.policy = AccessPolicy(terms_version="2026-12")
        with pytest.raises(TermsNotAcceptedError):
            await rig.sut().execute(rig.request())
        with pytest.raises(StreamAccessLostError) as lost:
            await stream.send("Run again")
        assert isinstance(lost.value.cause, TermsNotAcceptedError)
    finally:
        await stream.aclose()
    rig.authenticator.actor = replace(
        actor, user=replace(actor.user, terms_accepted_version="2026-12")
    )
    accepted = (await rig.sut().execute(rig.request())).stream
    await accepted.aclose()


async def test_a_send_after_the_credential_ended_loses_access(
    rig: Rig,
) -> None:
    stream = (await rig.sut().execute(rig.request())).stream
    try:
        await stream.recheck()
        rig.authenticator.actor = None
        with pytest.raises(StreamAccessLostError) as lost:
            await stream.send("Run again")
        assert isinstance(lost.value.cause, NotAuthenticatedError)
        with pytest.raises(StreamAccessLostError):
            await stream.recheck()
    finally:
        await stream.aclose()


async def test_only_revocations_that_may_end_its_access_concern_a_stream(rig: Rig) -> None:
    actor = rig.authenticator.actor
    assert actor is not None
    assert actor.credential_id is not None
    org_id = rig.conversation.tenant.org_id
    stream = (await rig.sut().execute(rig.request())).stream
    try:
        assert stream.concerns(SessionRevoked(SessionId(actor.credential_id)))
        assert stream.concerns(ApiKeyRevoked(ApiKeyId(actor.credential_id)))
        assert not stream.concerns(SessionRevoked(SessionId(uuid4())))
        assert stream.concerns(MembershipChanged(actor.user.id_, org_id))
        assert not stream.concerns(MembershipChanged(actor.user.id_, OrgId(uuid4())))
        assert not stream.concerns(MembershipChanged(create_user().id_, org_id))
        assert stream.concerns(RevocationsMissed())
    finally:
        await stream.aclose()
