"""Sign-in, session refresh and sign-out use cases over fakes (and one real Redis lock)."""

import asyncio
import secrets
from datetime import timedelta

import pytest

from adapters.redis import RedisLocks, create_redis_client
from application.errors import SignInRejectedError
from application.identity.brokered_tokens import IgnoreBrokeredTokens
from application.identity.complete_sign_in import CompleteSignIn, CompleteSignInRequest
from application.identity.session_authenticator import SESSION_COOKIE, SessionAuthenticator
from application.identity.sign_in_policy import SignInPolicy
from application.identity.start_sign_in import StartSignIn, StartSignInRequest
from application.ports.authenticator import AuthMethod, Credentials, Principal
from application.ports.identity_provider import IdentityClaims
from application.ports.locks import Locks
from application.sessions import RevokeSession, RevokeSessionRequest, SignOut, SignOutRequest
from domain.audit.entities import AuditAction
from domain.identity.errors import SessionNotFoundError
from domain.identity.sessions import SessionId
from domain.shared.ids import new_id
from tests.conftest import REDIS_URL
from tests.fakes import (
    FakeIdentityProvider,
    FakeLocks,
    FakeLoginAttemptStore,
    FakeSessionRepository,
)
from tests.unit.application.conftest import World

POLICY = SignInPolicy(
    redirect_uri="https://app.test/api/auth/callback",
    post_logout_redirect_uri="https://app.test/",
    session_max_age=timedelta(days=14),
)


class SignIn:
    def __init__(self, world: World) -> None:
        self.world = world
        self.provider = FakeIdentityProvider(world.clock)
        self.attempts = FakeLoginAttemptStore(world.clock)
        self.sessions = FakeSessionRepository(world.store)

    async def sign_in(self, subject: str, *, email: str | None = None) -> tuple[str, str]:
        """Returns the cookie value and where the browser goes next."""
        url = await StartSignIn(self.provider, self.attempts, self.world.clock, POLICY).execute(
            StartSignInRequest(return_to="/x")
        )
        state = url.split("state=")[1]
        claims = IdentityClaims(
            subject=subject,
            email=email or f"{subject}@example.com",
            email_verified=True,
            name=subject.title(),
            picture=None,
            identity_provider=None,
        )
        code = self.provider.approve(state, claims)
        result = await self.complete().execute(CompleteSignInRequest(state=state, code=code))
        return result.session_token, result.return_to

    def complete(self) -> CompleteSignIn:
        w = self.world
        return CompleteSignIn(
            self.provider,
            self.attempts,
            w.users,
            w.orgs,
            self.sessions,
            w.audit,
            w.uow,
            w.clock,
            POLICY,
            IgnoreBrokeredTokens(),
        )

    def authenticator(self, locks: Locks) -> SessionAuthenticator:
        w = self.world
        return SessionAuthenticator(
            self.sessions, w.users, self.provider, locks, w.uow, w.clock, POLICY
        )


@pytest.fixture
def flow(world: World) -> SignIn:
    return SignIn(world)


def cookie(token: str) -> Credentials:
    return Credentials(cookies={SESSION_COOKIE: token})


async def test_first_sign_in_makes_the_user_a_personal_org_and_a_session(
    flow: SignIn, world: World
) -> None:
    token, goes_to = await flow.sign_in("sub-ada")
    assert goes_to == "/x"
    [user] = world.store.committed.users.values()
    assert user.subject == "sub-ada"
    assert await world.orgs.get_personal(user.id_) is not None
    actions = {e.action for e in world.store.committed.audit}
    assert {AuditAction.USER_PROVISIONED, AuditAction.SIGNED_IN} <= actions
    principal = await flow.authenticator(FakeLocks()).authenticate(cookie(token))
    assert principal is not None
    assert principal.method is AuthMethod.SESSION


async def test_a_later_sign_in_follows_the_provider_and_keeps_the_user(
    flow: SignIn, world: World
) -> None:
    await flow.sign_in("sub-ada")
    await flow.sign_in("sub-ada", email="ada@new.example")
    [user] = world.store.committed.users.values()
    assert user.email.value == "ada@new.example"


async def test_a_state_that_was_never_issued_or_used_commits_nothing(
    flow: SignIn, world: World
) -> None:
    with pytest.raises(SignInRejectedError):
        await flow.complete().execute(CompleteSignInRequest(state="forged", code="x"))
    assert world.store.committed.users == {}


async def test_concurrent_requests_after_expiry_refresh_exactly_once(
    flow: SignIn, world: World
) -> None:
    token, _ = await flow.sign_in("sub-ada")
    world.clock.advance(timedelta(minutes=10))
    flow.provider.refresh_delay_s = 0.05
    locks = FakeLocks()
    sut = flow.authenticator(locks)
    answers = await asyncio.gather(*(sut.authenticate(cookie(token)) for _ in range(50)))
    assert all(isinstance(a, Principal) for a in answers)
    assert flow.provider.refresh_calls == 1
    assert locks.max_holding == 1


@pytest.mark.redis
async def test_two_nodes_sharing_a_redis_lock_refresh_exactly_once(
    flow: SignIn, world: World
) -> None:
    token, _ = await flow.sign_in("sub-ada")
    world.clock.advance(timedelta(minutes=10))
    flow.provider.refresh_delay_s = 0.05
    prefix = f"test:{secrets.token_hex(6)}:"
    clients = [create_redis_client(REDIS_URL, timeout_s=2, max_connections=60) for _ in range(2)]
    try:
        nodes = [flow.authenticator(RedisLocks(c, prefix=prefix)) for c in clients]
        answers = await asyncio.gather(
            *(nodes[i % 2].authenticate(cookie(token)) for i in range(40))
        )
    finally:
        for client in clients:
            await client.aclose()
    assert all(isinstance(a, Principal) for a in answers)
    assert flow.provider.refresh_calls == 1


async def test_a_refused_refresh_ends_the_session(flow: SignIn, world: World) -> None:
    token, _ = await flow.sign_in("sub-ada")
    [session] = world.store.committed.sessions.values()
    assert session.tokens.refresh_token is not None
    await flow.provider.revoke(session.tokens.refresh_token)
    world.clock.advance(timedelta(minutes=10))
    assert await flow.authenticator(FakeLocks()).authenticate(cookie(token)) is None
    [ended] = world.store.committed.sessions.values()
    assert ended.revoked_at is not None


async def test_expired_sessions_and_unknown_cookies_prove_nobody(
    flow: SignIn, world: World
) -> None:
    token, _ = await flow.sign_in("sub-ada")
    sut = flow.authenticator(FakeLocks())
    assert await sut.authenticate(cookie("not-a-session")) is None
    assert await sut.authenticate(Credentials()) is None
    world.clock.advance(POLICY.session_max_age)
    assert await sut.authenticate(cookie(token)) is None


async def test_sign_out_everywhere_revokes_here_and_at_the_provider(
    flow: SignIn, world: World
) -> None:
    first, _ = await flow.sign_in("sub-ada")
    await flow.sign_in("sub-ada")
    principal = await flow.authenticator(FakeLocks()).authenticate(cookie(first))
    assert principal is not None
    w = world
    sign_out = SignOut(flow.sessions, w.orgs, flow.provider, w.audit, w.uow, w.clock, POLICY)
    result = await sign_out.execute(SignOutRequest(actor=principal, everywhere=True))
    assert result.sessions_ended == 2
    assert result.logout_url is not None
    assert "id_token_hint=" in result.logout_url
    assert len(flow.provider.revoked) == 2
    assert all(s.revoked_at is not None for s in world.store.committed.sessions.values())


async def test_someone_elses_session_cannot_be_revoked(flow: SignIn, world: World) -> None:
    token, _ = await flow.sign_in("sub-ada")
    await flow.sign_in("sub-bob")
    ada = await flow.authenticator(FakeLocks()).authenticate(cookie(token))
    assert ada is not None
    bobs = next(s for s in world.store.committed.sessions.values() if s.user_id != ada.user.id_)
    w = world
    revoke = RevokeSession(flow.sessions, w.orgs, flow.provider, w.audit, w.uow, w.clock)
    for session_id in (bobs.id_, SessionId(new_id())):
        with pytest.raises(SessionNotFoundError):
            await revoke.execute(RevokeSessionRequest(actor=ada, session_id=session_id))
