"""Sign-in, session refresh and sign-out use cases over fakes (one test adds a real Redis lock).

Every request gets a stack of its own (repositories and unit of work over the one FakeStore),
as a request gets its own database session in the server; what they share is the store, the
issuer and the lock.
"""

import asyncio
import secrets
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from adapters.memory import InProcessLocks
from adapters.redis import RedisLocks, create_redis_client
from application.analytics import ProductAnalytics
from application.errors import (
    ApplicationError,
    DependencyUnavailableError,
    SignInRejectedError,
    TooManySignInsError,
)
from application.identity.brokered_tokens import IgnoreBrokeredTokens
from application.identity.complete_sign_in import (
    CompleteSignIn,
    CompleteSignInRequest,
    CompleteSignInResult,
)
from application.identity.principal_cache import PrincipalCache
from application.identity.session_authenticator import SESSION_COOKIE, SessionAuthenticator
from application.identity.sign_in_policy import SignInPolicy
from application.identity.start_sign_in import StartSignIn, StartSignInRequest
from application.members import PendingInvitations
from application.ports.access_revocations import SessionRevoked
from application.ports.locks import Locks
from application.sessions import (
    GetCurrentSession,
    GetCurrentSessionRequest,
    ListSessions,
    ListSessionsRequest,
    RevokeSession,
    RevokeSessionRequest,
    SessionEndings,
    SignOut,
    SignOutRequest,
)
from domain.audit.entities import AuditAction
from domain.identity.errors import SessionNotFoundError
from domain.identity.principals import AuthMethod, Credentials, Principal
from domain.identity.sessions import Session, SessionId, session_token_hash
from domain.organizations.entities import Role
from domain.shared.ids import new_id
from tests.conftest import REDIS_URL
from tests.fakes import (
    FakeIdentityProvider,
    FakeLocks,
    FakeLoginAttemptStore,
    FakeStore,
    FakeUnitOfWork,
    FakeUnitsOfWork,
)
from tests.fakes.analytics import RecordingAnalytics
from tests.unit.application.conftest import World

POLICY = SignInPolicy(
    redirect_uri="https://app.test/api/auth/callback",
    post_logout_redirect_uri="https://app.test/",
    session_max_age=timedelta(days=14),
)
ACCESS_TTL = timedelta(minutes=5)
PAST_ACCESS_EXPIRY = timedelta(minutes=10)


class Flow:
    """The issuer, the sign-in attempts and fresh use-case stacks over the world's store."""

    def __init__(self, world: World, provider: FakeIdentityProvider | None = None) -> None:
        self.world = world
        self.store = world.store
        self.provider = provider or FakeIdentityProvider(world.clock, access_ttl=ACCESS_TTL)
        self.attempts = FakeLoginAttemptStore(world.clock)
        self.analytics = RecordingAnalytics()

    async def start(self, *, hint: str | None = None) -> str:
        """Begin a sign-in; the issuer's authorization URL."""
        started = await StartSignIn(self.provider, self.attempts, self.world.clock, POLICY).execute(
            StartSignInRequest(return_to="/x", provider_hint=hint)
        )
        return started.authorization_url

    async def sign_in(
        self,
        subject: str,
        *,
        email: str | None = None,
        verified: bool = True,
        name: str | None = None,
        hint: str | None = None,
    ) -> CompleteSignInResult:
        url = await self.start(hint=hint)
        code = self.provider.login(
            url,
            subject,
            email or f"{subject}@example.com",
            email_verified=verified,
            name=name or subject.title(),
        )
        return await self.complete().execute(
            CompleteSignInRequest(
                state=state_of(url), code=code, browser_state=state_of(url), user_agent="pytest"
            )
        )

    def complete(self) -> CompleteSignIn:
        uow = FakeUnitOfWork(self.store)
        return CompleteSignIn(
            self.provider,
            self.attempts,
            uow,
            self.world.clock,
            POLICY,
            IgnoreBrokeredTokens(),
            PendingInvitations(uow),
            self.world.revocations,
            ProductAnalytics(self.analytics),
        )

    def authenticator(
        self, locks: Locks, store: FakeStore | None = None, cache: PrincipalCache | None = None
    ) -> SessionAuthenticator:
        """One request's authenticator; ``store`` stands in for another node's database view."""
        store = store or self.store
        return SessionAuthenticator(
            FakeUnitsOfWork(store),
            self.provider,
            locks,
            self.world.clock,
            POLICY,
            cache or self.world.principals,
        )

    async def principal(self, token: str) -> Principal:
        principal = await self.authenticator(FakeLocks()).authenticate(cookie(token))
        assert principal is not None
        return principal

    def endings(self) -> SessionEndings:
        return SessionEndings(self.provider, self.world.revocations)

    def sign_out(self) -> SignOut:
        return SignOut(
            FakeUnitOfWork(self.store), self.world.clock, self.provider, self.endings(), POLICY
        )

    def revoke_session(self) -> RevokeSession:
        return RevokeSession(FakeUnitOfWork(self.store), self.world.clock, self.endings())

    def session(self, token: str) -> Session:
        """The committed session of a cookie value."""
        found = [
            s
            for s in self.store.committed.sessions.values()
            if s.token_hash == session_token_hash(token)
        ]
        assert len(found) == 1
        return found[0]


def state_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["state"][0]


def cookie(token: str) -> Credentials:
    return Credentials(cookies={SESSION_COOKIE: token})


@pytest.fixture
def flow(world: World) -> Flow:
    return Flow(world)


# ---- CompleteSignIn ----------------------------------------------------------------------


async def test_first_sign_in_provisions_the_user_with_a_personal_org_and_audits_it(
    flow: Flow, world: World
) -> None:
    result = await flow.sign_in("sub-ada", name="Ada", hint="github")
    committed = world.store.committed
    assert world.store.commits == 1
    [user] = committed.users.values()
    assert result.user == user
    assert (user.subject, user.email.value, user.email_verified, user.display_name) == (
        "sub-ada",
        "sub-ada@example.com",
        True,
        "Ada",
    )
    [org] = committed.orgs.values()
    assert org.personal_owner == user.id_
    assert committed.memberships[(org.id_, user.id_)].role is Role.OWNER
    [session] = committed.sessions.values()
    assert session.user_id == user.id_
    assert session.token_hash == session_token_hash(result.session_token)
    assert result.session_token not in repr(committed)
    assert session.identity_provider == "github"
    assert session.user_agent == "pytest"
    assert session.expires_at == result.expires_at == world.clock.now() + POLICY.session_max_age
    assert result.return_to == "/x"
    events = {e.action: e for e in committed.audit}
    assert set(events) == {AuditAction.USER_PROVISIONED, AuditAction.SIGNED_IN}
    provisioned, signed_in = events[AuditAction.USER_PROVISIONED], events[AuditAction.SIGNED_IN]
    assert (provisioned.actor_id, provisioned.org_id, provisioned.target_id) == (
        user.id_,
        org.id_,
        str(user.id_),
    )
    assert (signed_in.actor_id, signed_in.org_id, signed_in.target_id) == (
        user.id_,
        org.id_,
        str(session.id_),
    )


async def test_the_session_lasts_as_long_as_the_refresh_token(world: World) -> None:
    flow = Flow(world, FakeIdentityProvider(world.clock, refresh_ttl=timedelta(hours=10)))
    result = await flow.sign_in("sub-ada")
    assert result.expires_at == world.clock.now() + timedelta(hours=10)


async def test_a_later_sign_in_follows_the_provider_and_keeps_the_user(
    flow: Flow, world: World
) -> None:
    first = await flow.sign_in("sub-ada", email="ada@old.example", verified=False, name="Ada")
    world.clock.advance(timedelta(days=1))
    second = await flow.sign_in(
        "sub-ada", email="ada@new.example", verified=True, name="Ada Lovelace"
    )
    committed = world.store.committed
    [user] = committed.users.values()
    assert user.id_ == first.user.id_ == second.user.id_
    assert (user.email.value, user.email_verified, user.display_name) == (
        "ada@new.example",
        True,
        "Ada Lovelace",
    )
    assert second.user == user
    assert len(committed.orgs) == 1
    actions = [e.action for e in committed.audit]
    assert actions.count(AuditAction.USER_PROVISIONED) == 1
    assert actions.count(AuditAction.SIGNED_IN) == 2
    assert len(committed.sessions) == 2


async def test_a_used_state_is_refused_and_commits_nothing(flow: Flow, world: World) -> None:
    url = await flow.start()
    code = flow.provider.login(url, "sub-ada", "ada@example.com")
    request = CompleteSignInRequest(state=state_of(url), code=code, browser_state=state_of(url))
    await flow.complete().execute(request)
    commits, sessions = world.store.commits, dict(world.store.committed.sessions)
    retry = flow.provider.login(url, "sub-ada", "ada@example.com")
    for replay in (
        request,
        CompleteSignInRequest(state=state_of(url), code=retry, browser_state=state_of(url)),
    ):
        with pytest.raises(SignInRejectedError):
            await flow.complete().execute(replay)
    assert world.store.commits == commits
    assert world.store.committed.sessions == sessions


async def test_a_callback_in_another_browser_is_refused_and_leaves_the_attempt(
    flow: Flow, world: World
) -> None:
    url = await flow.start()
    code = flow.provider.login(url, "sub-ada", "ada@example.com")
    for browser_state in (None, "", "the-state-of-another-sign-in"):
        with pytest.raises(SignInRejectedError):
            await flow.complete().execute(
                CompleteSignInRequest(state=state_of(url), code=code, browser_state=browser_state)
            )
    assert world.store.commits == 0
    finished = await flow.complete().execute(
        CompleteSignInRequest(state=state_of(url), code=code, browser_state=state_of(url))
    )
    assert finished.user.subject == "sub-ada"


async def test_a_client_past_its_start_limit_waits_for_its_window_to_end(world: World) -> None:
    policy = replace(POLICY, starts_per_client=2)
    attempts = FakeLoginAttemptStore(world.clock)
    provider = FakeIdentityProvider(world.clock, access_ttl=ACCESS_TTL)
    sut = StartSignIn(provider, attempts, world.clock, policy)
    here, there = (
        StartSignInRequest(client="198.51.100.1"),
        StartSignInRequest(client="2001:db8::/64"),
    )
    await sut.execute(here)
    world.clock.advance(timedelta(minutes=4))
    await sut.execute(here)
    with pytest.raises(TooManySignInsError) as refused:
        await sut.execute(here)
    assert refused.value.retry_after == policy.attempt_ttl - timedelta(minutes=4)
    assert len(attempts.attempts) == 2  # the refused start kept nothing
    await sut.execute(there)
    world.clock.advance(refused.value.retry_after)
    await sut.execute(here)


async def test_an_unknown_state_is_refused_and_commits_nothing(flow: Flow, world: World) -> None:
    url = await flow.start()
    code = flow.provider.login(url, "sub-ada", "ada@example.com")
    with pytest.raises(SignInRejectedError):
        await flow.complete().execute(
            CompleteSignInRequest(state="forged", code=code, browser_state="forged")
        )
    assert world.store.commits == 0
    assert world.store.committed.users == {}
    assert world.store.committed.sessions == {}


async def test_a_code_the_issuer_refuses_commits_nothing_and_spends_the_state(
    flow: Flow, world: World
) -> None:
    url = await flow.start()
    with pytest.raises(SignInRejectedError):
        await flow.complete().execute(
            CompleteSignInRequest(state=state_of(url), code="forged", browser_state=state_of(url))
        )
    code = flow.provider.login(url, "sub-ada", "ada@example.com")
    with pytest.raises(SignInRejectedError):
        await flow.complete().execute(
            CompleteSignInRequest(state=state_of(url), code=code, browser_state=state_of(url))
        )
    assert world.store.commits == 0
    assert world.store.committed.users == {}


# ---- SessionAuthenticator ----------------------------------------------------------------


async def test_a_fresh_session_authenticates_without_refresh(flow: Flow) -> None:
    result = await flow.sign_in("sub-ada")
    locks = FakeLocks()
    principal = await flow.authenticator(locks).authenticate(cookie(result.session_token))
    assert principal is not None
    assert principal.user == result.user
    assert principal.method is AuthMethod.SESSION
    assert principal.credential_id == flow.session(result.session_token).id_
    assert flow.provider.refresh_calls == 0
    assert locks.acquisitions == 0


async def test_the_policys_refresh_margin_decides_when_tokens_are_refreshed(
    flow: Flow, world: World
) -> None:
    """A margin wider than the default: a token with a minute left is refreshed, both by the
    first look and by the second one under the session's lock."""
    result = await flow.sign_in("sub-ada")
    world.clock.advance(ACCESS_TTL - timedelta(minutes=1))
    wide = replace(POLICY, refresh_margin=timedelta(minutes=2))
    sut = SessionAuthenticator(
        FakeUnitsOfWork(flow.store), flow.provider, FakeLocks(), world.clock, wide, world.principals
    )
    assert await sut.authenticate(cookie(result.session_token)) is not None
    assert flow.provider.refresh_calls == 1
    assert await sut.authenticate(cookie(result.session_token)) is not None
    assert flow.provider.refresh_calls == 1


@pytest.mark.parametrize("make_locks", [InProcessLocks, FakeLocks], ids=["in-process", "fake"])
async def test_fifty_concurrent_requests_after_expiry_refresh_exactly_once(
    flow: Flow, world: World, make_locks: type[Locks]
) -> None:
    result = await flow.sign_in("sub-ada")
    token = result.session_token
    before = flow.session(token)
    world.clock.advance(PAST_ACCESS_EXPIRY)
    flow.provider.refresh_delay_s = 0.05
    locks = make_locks()
    answers = await asyncio.gather(
        *(flow.authenticator(locks).authenticate(cookie(token)) for _ in range(50))
    )
    assert [a.user.id_ if a else None for a in answers] == [result.user.id_] * 50
    assert flow.provider.refresh_calls == 1
    after = flow.session(token)
    assert after.tokens.access_token != before.tokens.access_token
    assert after.tokens.refresh_token != before.tokens.refresh_token
    assert not after.needs_refresh(world.clock.now())
    assert after.revoked_at is None
    if isinstance(locks, FakeLocks):
        assert locks.max_holding == 1
        assert len(set(locks.acquired)) == 1  # one lock, the session's
    assert await flow.authenticator(locks).authenticate(cookie(token)) is not None
    assert flow.provider.refresh_calls == 1


async def test_without_a_shared_lock_two_nodes_refresh_twice_and_lose_the_session(
    flow: Flow, world: World
) -> None:
    """The negative control of the next test: each node has only its own in-process lock, so
    both refresh with the same token; the issuer sees a reused token and ends the grant."""
    token = (await flow.sign_in("sub-ada")).session_token
    world.clock.advance(PAST_ACCESS_EXPIRY)
    flow.provider.refresh_delay_s = 0.05
    node_locks = (InProcessLocks(), InProcessLocks())
    await asyncio.gather(
        *(flow.authenticator(node_locks[i % 2]).authenticate(cookie(token)) for i in range(10))
    )
    assert flow.provider.refresh_calls == 2
    assert flow.session(token).revoked_at is not None


@pytest.fixture
async def two_redis_nodes() -> AsyncIterator[tuple[RedisLocks, RedisLocks]]:
    """RedisLocks on two clients of one Redis, under a key prefix of this test's own."""
    clients = [create_redis_client(REDIS_URL, timeout_s=2, max_connections=60) for _ in range(2)]
    prefix = f"maestrist-test:{secrets.token_hex(8)}:lock:"
    try:
        yield RedisLocks(clients[0], prefix=prefix), RedisLocks(clients[1], prefix=prefix)
    finally:
        leftovers = [key async for key in clients[0].scan_iter(match=f"{prefix}*")]
        if leftovers:
            await clients[0].delete(*leftovers)
        for client in clients:
            await client.aclose()


@pytest.mark.redis
async def test_two_nodes_sharing_a_redis_lock_refresh_exactly_once(
    flow: Flow, world: World, two_redis_nodes: tuple[RedisLocks, RedisLocks]
) -> None:
    result = await flow.sign_in("sub-ada")
    token = result.session_token
    world.clock.advance(PAST_ACCESS_EXPIRY)
    flow.provider.refresh_delay_s = 0.05
    answers = await asyncio.gather(
        *(flow.authenticator(two_redis_nodes[i % 2]).authenticate(cookie(token)) for i in range(50))
    )
    assert [a.user.id_ if a else None for a in answers] == [result.user.id_] * 50
    assert flow.provider.refresh_calls == 1
    assert flow.session(token).revoked_at is None


async def test_a_refresh_the_issuer_refuses_ends_the_session(flow: Flow, world: World) -> None:
    token = (await flow.sign_in("sub-ada")).session_token
    refresh_token = flow.session(token).tokens.refresh_token
    assert refresh_token is not None
    await flow.provider.revoke(refresh_token)
    world.clock.advance(PAST_ACCESS_EXPIRY)
    assert await flow.authenticator(FakeLocks()).authenticate(cookie(token)) is None
    assert flow.session(token).revoked_at == world.clock.now()
    assert await flow.authenticator(FakeLocks()).authenticate(cookie(token)) is None
    assert flow.provider.refresh_calls == 1


async def test_a_stale_session_without_a_refresh_token_ends(flow: Flow, world: World) -> None:
    token = (await flow.sign_in("sub-ada")).session_token
    session = flow.session(token)
    world.store.live.sessions[session.id_] = replace(
        session, tokens=replace(session.tokens, refresh_token=None)
    )
    world.store.commit()
    world.clock.advance(PAST_ACCESS_EXPIRY)
    assert await flow.authenticator(FakeLocks()).authenticate(cookie(token)) is None
    assert flow.session(token).revoked_at is not None
    assert flow.provider.refresh_calls == 0


async def test_revoked_expired_and_unknown_sessions_prove_nobody(flow: Flow, world: World) -> None:
    revoked = (await flow.sign_in("sub-ada")).session_token
    expired = (await flow.sign_in("sub-ada")).session_token
    session = flow.session(revoked)
    world.store.live.sessions[session.id_] = session.revoked(world.clock.now())
    world.store.commit()
    sut = flow.authenticator(FakeLocks())
    assert await sut.authenticate(cookie(revoked)) is None
    world.clock.advance(POLICY.session_max_age)
    assert await sut.authenticate(cookie(expired)) is None
    assert await sut.authenticate(cookie("not-a-session")) is None
    assert await sut.authenticate(cookie("")) is None
    assert await sut.authenticate(Credentials()) is None
    assert await sut.authenticate(Credentials(authorization=f"Bearer {expired}")) is None
    assert flow.provider.refresh_calls == 0


# ---- SignOut, RevokeSession, ListSessions, GetCurrentSession -----------------------------


async def test_sign_out_ends_this_session_here_and_at_the_issuer(flow: Flow, world: World) -> None:
    this = (await flow.sign_in("sub-ada")).session_token
    other = (await flow.sign_in("sub-ada")).session_token
    bobs = (await flow.sign_in("sub-bob")).session_token
    principal = await flow.principal(this)
    ended = flow.session(this)
    result = await flow.sign_out().execute(SignOutRequest(actor=principal))
    assert result.sessions_ended == 1
    assert result.logout_url is not None
    logout = parse_qs(urlsplit(result.logout_url).query)
    assert logout["id_token_hint"] == [ended.tokens.id_token]
    assert logout["post_logout_redirect_uri"] == [POLICY.post_logout_redirect_uri]
    assert flow.provider.revoked == [ended.tokens.refresh_token]
    assert flow.session(this).revoked_at == world.clock.now()
    assert flow.session(other).revoked_at is None
    assert flow.session(bobs).revoked_at is None
    signed_out = [e for e in world.store.committed.audit if e.action is AuditAction.SIGNED_OUT]
    assert [e.target_id for e in signed_out] == [str(ended.id_)]
    sut = flow.authenticator(FakeLocks())
    assert await sut.authenticate(cookie(this)) is None
    assert await sut.authenticate(cookie(other)) is not None


async def test_sign_out_everywhere_ends_every_session_of_the_caller_only(
    flow: Flow, world: World
) -> None:
    first = (await flow.sign_in("sub-ada")).session_token
    second = (await flow.sign_in("sub-ada")).session_token
    bobs = (await flow.sign_in("sub-bob")).session_token
    principal = await flow.principal(first)
    result = await flow.sign_out().execute(SignOutRequest(actor=principal, everywhere=True))
    assert result.sessions_ended == 2
    ada = [flow.session(first), flow.session(second)]
    assert sorted(flow.provider.revoked) == sorted(s.tokens.refresh_token or "" for s in ada)
    assert all(s.revoked_at == world.clock.now() for s in ada)
    assert flow.session(bobs).revoked_at is None
    assert sorted(world.revocations.published, key=str) == sorted(
        (SessionRevoked(s.id_) for s in ada), key=str
    )
    assert result.logout_url is not None
    assert parse_qs(urlsplit(result.logout_url).query)["id_token_hint"] == [ada[0].tokens.id_token]


async def test_an_api_key_caller_signs_out_everywhere(flow: Flow) -> None:
    first = (await flow.sign_in("sub-ada")).session_token
    second = (await flow.sign_in("sub-ada")).session_token
    session_principal = await flow.principal(first)
    by_key = Principal(user=session_principal.user, method=AuthMethod.API_KEY)
    result = await flow.sign_out().execute(SignOutRequest(actor=by_key))
    assert result.sessions_ended == 2
    assert flow.session(first).revoked_at is not None
    assert flow.session(second).revoked_at is not None
    assert result.logout_url is not None
    assert "id_token_hint" not in parse_qs(urlsplit(result.logout_url).query)


@pytest.mark.parametrize(
    "failure",
    [DependencyUnavailableError("issuer down"), SignInRejectedError("refused")],
    ids=["unreachable", "refusing"],
)
@pytest.mark.parametrize("everywhere", [False, True], ids=["this-session", "everywhere"])
async def test_an_issuer_failing_to_revoke_does_not_keep_sessions_alive(
    flow: Flow, world: World, failure: ApplicationError, *, everywhere: bool
) -> None:
    first = (await flow.sign_in("sub-ada")).session_token
    second = (await flow.sign_in("sub-ada")).session_token
    principal = await flow.principal(first)
    flow.provider.revoke_error = failure
    if isinstance(failure, DependencyUnavailableError):
        flow.provider.end_session_error = failure
    result = await flow.sign_out().execute(SignOutRequest(actor=principal, everywhere=everywhere))
    ended = [first, second] if everywhere else [first]
    assert result.sessions_ended == len(ended)
    # an issuer that cannot be reached is tried once, not once per session
    unreachable = isinstance(failure, DependencyUnavailableError)
    assert len(flow.provider.revoked) == (1 if unreachable else len(ended))
    assert (result.logout_url is None) == unreachable
    sut = flow.authenticator(FakeLocks())
    for token in ended:
        assert flow.session(token).revoked_at == world.clock.now()
        assert await sut.authenticate(cookie(token)) is None
    world.clock.advance(PAST_ACCESS_EXPIRY)
    for token in ended:
        assert await sut.authenticate(cookie(token)) is None
    assert flow.provider.refresh_calls == 0


async def test_revoking_ones_own_other_session(flow: Flow, world: World) -> None:
    this = (await flow.sign_in("sub-ada")).session_token
    other = (await flow.sign_in("sub-ada")).session_token
    principal = await flow.principal(this)
    target = flow.session(other)
    await flow.revoke_session().execute(
        RevokeSessionRequest(actor=principal, session_id=target.id_)
    )
    assert flow.session(other).revoked_at == world.clock.now()
    assert flow.session(this).revoked_at is None
    assert flow.provider.revoked == [target.tokens.refresh_token]
    assert world.revocations.published == [SessionRevoked(target.id_)]
    with pytest.raises(SessionNotFoundError):
        await flow.revoke_session().execute(
            RevokeSessionRequest(actor=principal, session_id=target.id_)
        )


async def test_someone_elses_session_cannot_be_revoked(flow: Flow, world: World) -> None:
    ada = await flow.principal((await flow.sign_in("sub-ada")).session_token)
    bobs_token = (await flow.sign_in("sub-bob")).session_token
    bobs = flow.session(bobs_token)
    commits = world.store.commits
    for session_id in (bobs.id_, SessionId(new_id())):
        with pytest.raises(SessionNotFoundError):
            await flow.revoke_session().execute(
                RevokeSessionRequest(actor=ada, session_id=session_id)
            )
    assert world.store.commits == commits
    assert flow.provider.revoked == []
    assert flow.session(bobs_token).revoked_at is None
    assert await flow.authenticator(FakeLocks()).authenticate(cookie(bobs_token)) is not None


async def test_listing_and_the_current_session_show_only_the_callers(
    flow: Flow, world: World
) -> None:
    first = (await flow.sign_in("sub-ada")).session_token
    world.clock.advance(timedelta(minutes=1))
    second = (await flow.sign_in("sub-ada")).session_token
    await flow.sign_in("sub-bob")
    principal = await flow.principal(first)
    listed = await ListSessions(FakeUnitOfWork(world.store), world.clock).execute(
        ListSessionsRequest(actor=principal)
    )
    assert [s.id_ for s in listed.sessions] == [flow.session(second).id_, flow.session(first).id_]
    current = GetCurrentSession(FakeUnitOfWork(world.store))
    found = await current.execute(GetCurrentSessionRequest(actor=principal))
    assert found.session.id_ == flow.session(first).id_
    by_key = Principal(user=principal.user, method=AuthMethod.API_KEY)
    with pytest.raises(SessionNotFoundError):
        await current.execute(GetCurrentSessionRequest(actor=by_key))
