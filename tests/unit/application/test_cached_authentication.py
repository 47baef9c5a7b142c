"""The authenticators with a principal cache that follows revocations: a credential is read
once per burst, a revocation or account change made through a use case is seen by the very
next request, and the cache never outlives the key's expiry, its next recorded use or the
session's token refresh."""

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import replace
from datetime import timedelta
from functools import partial
from typing import Any

import pytest

from application.api_keys import (
    CreateApiKey,
    CreateApiKeyRequest,
    RevokeApiKey,
    RevokeApiKeyRequest,
)
from application.identity import ApiKeyAuthenticator
from application.identity.accept_terms import AcceptTerms, AcceptTermsRequest
from application.identity.access_gates import AccessPolicy
from application.identity.principal_cache import (
    EvictingRevocations,
    PrincipalCache,
    PrincipalCacheFollower,
)
from application.identity.session_authenticator import SessionAuthenticator
from application.members import (
    ChangeMemberRole,
    ChangeMemberRoleRequest,
    RemoveMember,
    RemoveMemberRequest,
)
from application.organizations import ActiveOrgResolver
from application.ports.unit_of_work import UnitOfWork, UnitsOfWork
from application.sessions import SessionEndings, SignOut, SignOutRequest
from domain.identity.api_keys import ApiKeyId
from domain.identity.principals import Credentials, Principal
from domain.identity.scopes import Scope
from domain.organizations.entities import Membership, Role
from domain.organizations.errors import OrgNotFoundError
from tests.factories import T0
from tests.fakes import FakeLocks, FakeUnitOfWork
from tests.support.polling import until
from tests.unit.application.conftest import World
from tests.unit.application.test_api_keys import _org_of
from tests.unit.application.test_sessions import POLICY, Flow, cookie

LONG = timedelta(hours=1)


@pytest.fixture
async def cache(world: World) -> AsyncIterator[PrincipalCache]:
    cache = PrincipalCache(world.clock, LONG)
    follower = PrincipalCacheFollower(cache, world.revocations)
    follower.start()
    try:
        await until(lambda: cache.ticket() is not None, "the follower subscribed")
        yield cache
    finally:
        await follower.aclose()


def _announcing(world: World, cache: PrincipalCache) -> EvictingRevocations:
    return EvictingRevocations(world.revocations, cache)


async def _key(world: World, alice: Principal, *, expires_in: timedelta | None = None) -> str:
    created = await CreateApiKey(world.uow, world.clock).execute(
        CreateApiKeyRequest(
            actor=alice,
            org=_org_of(world, alice),
            name="CI",
            scopes=frozenset({Scope.SETTINGS_READ}),
            expires_at=None if expires_in is None else world.clock.now() + expires_in,
        )
    )
    return str(created.token)


def _bearer(token: str) -> Credentials:
    return Credentials(authorization=f"Bearer {token}")


async def test_a_key_is_read_once_and_revoking_it_ends_it_at_once(
    world: World, cache: PrincipalCache
) -> None:
    alice = world.principal("alice")
    token = await _key(world, alice)
    keys = ApiKeyAuthenticator(world.units, world.clock, cache)
    first = await keys.authenticate(_bearer(token))
    assert first is not None
    assert first.credential_id is not None
    # behind the servers' back (no announcement), the stored key goes: the cache still answers
    stored = world.store.live.api_keys.pop(ApiKeyId(first.credential_id))
    world.store.commit()
    assert await keys.authenticate(_bearer(token)) == first
    # ... unless the caller asks for the credential read again (a socket's re-check)
    assert await keys.authenticate(replace(_bearer(token), reuse_recent=False)) is None
    world.store.live.api_keys[stored.id_] = stored
    world.store.commit()

    revoke = RevokeApiKey(FakeUnitOfWork(world.store), world.clock, _announcing(world, cache))
    await revoke.execute(RevokeApiKeyRequest(actor=alice, key_id=stored.id_))

    assert await keys.authenticate(_bearer(token)) is None


async def test_a_keys_use_is_still_recorded_every_minute(
    world: World, cache: PrincipalCache
) -> None:
    token = await _key(world, world.principal("alice"))
    keys = ApiKeyAuthenticator(world.units, world.clock, cache)
    principal = await keys.authenticate(_bearer(token))
    assert principal is not None
    assert principal.credential_id is not None
    start = world.clock.now()
    world.clock.advance(timedelta(seconds=59))
    assert await keys.authenticate(_bearer(token)) == principal
    assert world.store.committed.api_keys[ApiKeyId(principal.credential_id)].last_used_at == start
    world.clock.advance(timedelta(seconds=1))
    assert await keys.authenticate(_bearer(token)) == principal
    last_used = world.store.committed.api_keys[ApiKeyId(principal.credential_id)].last_used_at
    assert last_used == world.clock.now()


async def test_an_expired_key_is_not_reused(world: World, cache: PrincipalCache) -> None:
    token = await _key(world, world.principal("alice"), expires_in=timedelta(days=1))
    keys = ApiKeyAuthenticator(world.units, world.clock, cache)
    principal = await keys.authenticate(_bearer(token))
    assert principal is not None
    assert not cache._reads  # a lone read leaves nothing pending behind
    world.clock.advance(timedelta(days=1) - timedelta(seconds=30))
    assert await keys.authenticate(_bearer(token)) is not None
    world.clock.advance(timedelta(seconds=30))
    assert await keys.authenticate(_bearer(token)) is None


async def test_a_session_is_reused_only_until_its_token_is_due_for_refresh(
    world: World, cache: PrincipalCache
) -> None:
    flow = Flow(world)
    signed_in = await flow.sign_in("sub-ada")
    session = flow.session(signed_in.session_token)
    # due as the policy says, not as the code under test computes it
    due = session.tokens.access_expires_at - POLICY.refresh_margin
    assert due < session.expires_at
    authenticator = flow.authenticator(FakeLocks(), cache=cache)
    principal = await authenticator.authenticate(cookie(signed_in.session_token))
    assert principal is not None
    world.clock.current = due - timedelta(seconds=1)
    assert await authenticator.authenticate(cookie(signed_in.session_token)) == principal
    assert flow.provider.refresh_calls == 0
    world.clock.current = due
    refreshed = await authenticator.authenticate(cookie(signed_in.session_token))
    assert refreshed is not None
    assert flow.provider.refresh_calls == 1
    # what the refresh proved is remembered as well: with the stored session gone behind the
    # servers' back, the next request is still answered from the cache
    world.store.live.sessions.pop(session.id_)
    world.store.commit()
    assert await authenticator.authenticate(cookie(signed_in.session_token)) == refreshed


async def test_signing_out_ends_the_session_for_the_very_next_request(
    world: World, cache: PrincipalCache
) -> None:
    flow = Flow(world)
    signed_in = await flow.sign_in("sub-ada")
    authenticator = flow.authenticator(FakeLocks(), cache=cache)
    principal = await authenticator.authenticate(cookie(signed_in.session_token))
    assert principal is not None
    endings = SessionEndings(flow.provider, _announcing(world, cache))
    sign_out = SignOut(FakeUnitOfWork(world.store), world.clock, flow.provider, endings, POLICY)
    await sign_out.execute(SignOutRequest(actor=principal, everywhere=False))

    assert await authenticator.authenticate(cookie(signed_in.session_token)) is None


async def test_accepting_the_terms_is_seen_by_the_very_next_request(
    world: World, cache: PrincipalCache
) -> None:
    flow = Flow(world)
    signed_in = await flow.sign_in("sub-ada")
    authenticator = flow.authenticator(FakeLocks(), cache=cache)
    before = await authenticator.authenticate(cookie(signed_in.session_token))
    assert before is not None
    assert before.user.terms_accepted_version is None
    policy = AccessPolicy(terms_version="2026-01")
    accept = AcceptTerms(
        FakeUnitOfWork(world.store), world.clock, policy, _announcing(world, cache)
    )
    await accept.execute(AcceptTermsRequest(actor=before, version="2026-01"))

    after = await authenticator.authenticate(cookie(signed_in.session_token))
    assert after is not None
    assert after.user.terms_accepted_version == "2026-01"
    assert replace(after, user=before.user) == before


async def test_the_active_org_is_read_once_and_a_role_change_or_removal_is_seen_at_once(
    world: World, cache: PrincipalCache
) -> None:
    owner, ada = world.principal("olive"), world.principal("ada")
    org = _org_of(world, owner)
    org_id = org.organization.id_
    await world.orgs.add_member(
        Membership(org_id=org_id, user_id=ada.user.id_, role=Role.MEMBER, joined_at=T0)
    )
    await world.uow.commit()
    sut = ActiveOrgResolver(FakeUnitOfWork(world.store), cache)
    first = await sut.resolve(ada, org_id, reuse_recent=True)
    assert first.role is Role.MEMBER
    # behind the servers' back (no announcement), the role changes: reads reuse what was found
    world.store.live.memberships[(org_id, ada.user.id_)] = Membership(
        org_id=org_id, user_id=ada.user.id_, role=Role.ADMIN, joined_at=T0
    )
    world.store.commit()
    assert await sut.resolve(ada, org_id, reuse_recent=True) == first
    # ... but a request that can change something reads it again
    assert (await sut.resolve(ada, org_id)).role is Role.ADMIN

    args = (FakeUnitOfWork(world.store), world.clock, _announcing(world, cache))
    await ChangeMemberRole(*args).execute(
        ChangeMemberRoleRequest(actor=owner, org_id=org_id, user_id=ada.user.id_, role=Role.MEMBER)
    )
    assert (await sut.resolve(ada, org_id, reuse_recent=True)).role is Role.MEMBER
    await RemoveMember(*args).execute(
        RemoveMemberRequest(actor=owner, org_id=org_id, user_id=ada.user.id_)
    )
    with pytest.raises(OrgNotFoundError):
        await sut.resolve(ada, org_id, reuse_recent=True)


async def test_an_org_the_caller_does_not_belong_to_is_never_remembered(
    world: World, cache: PrincipalCache
) -> None:
    owner, ada = world.principal("olive"), world.principal("ada")
    org_id = _org_of(world, owner).organization.id_
    sut = ActiveOrgResolver(FakeUnitOfWork(world.store), cache)
    with pytest.raises(OrgNotFoundError):
        await sut.resolve(ada, org_id, reuse_recent=True)
    await world.orgs.add_member(
        Membership(org_id=org_id, user_id=ada.user.id_, role=Role.MEMBER, joined_at=T0)
    )
    await world.uow.commit()
    assert (await sut.resolve(ada, org_id, reuse_recent=True)).role is Role.MEMBER


class _GatedUnits(UnitsOfWork):
    """Units of work that count how many began and hold each at its start until ``gate`` is
    set, so requests that miss the cache together are all in flight at once."""

    def __init__(self, inner: UnitsOfWork) -> None:
        self._inner = inner
        self.begun = 0
        self.gate = asyncio.Event()

    def begin(self) -> AbstractAsyncContextManager[UnitOfWork]:
        return self._begin()

    @asynccontextmanager
    async def _begin(self) -> AsyncIterator[UnitOfWork]:
        self.begun += 1
        await self.gate.wait()
        async with self._inner.begin() as uow:
            yield uow


async def _burst(
    units: _GatedUnits,
    authenticate: Callable[[], Coroutine[Any, Any, Principal | None]],
    *,
    expect: int,
) -> list[Principal | None]:
    """Twenty requests together on a cold cache; the gate opens once ``expect`` reads began."""
    requests = [asyncio.create_task(authenticate()) for _ in range(20)]
    await until(lambda: units.begun >= expect, f"{expect} reads began")
    units.gate.set()
    return list(await asyncio.gather(*requests))


@pytest.mark.parametrize("reuse_recent", [True, False], ids=["reads-reuse", "control"])
async def test_a_burst_on_a_cold_cache_reads_the_key_once(
    world: World, cache: PrincipalCache, reuse_recent: bool
) -> None:
    token = await _key(world, world.principal("alice"))
    units = _GatedUnits(world.units)
    keys = ApiKeyAuthenticator(units, world.clock, cache)
    credentials = replace(_bearer(token), reuse_recent=reuse_recent)

    expect = 1 if reuse_recent else 20  # the control: requests that may not reuse each read
    principals = await _burst(units, partial(keys.authenticate, credentials), expect=expect)

    assert units.begun == expect
    assert len(set(principals)) == 1
    assert principals[0] is not None
    assert not cache._reads  # nothing is left behind once the burst is served


@pytest.mark.parametrize("reuse_recent", [True, False], ids=["reads-reuse", "control"])
async def test_a_burst_on_a_cold_cache_reads_the_session_once(
    world: World, cache: PrincipalCache, reuse_recent: bool
) -> None:
    flow = Flow(world)
    signed_in = await flow.sign_in("sub-ada")
    units = _GatedUnits(world.units)
    sessions = SessionAuthenticator(units, flow.provider, FakeLocks(), world.clock, POLICY, cache)
    credentials = replace(cookie(signed_in.session_token), reuse_recent=reuse_recent)

    expect = 1 if reuse_recent else 20
    principals = await _burst(units, partial(sessions.authenticate, credentials), expect=expect)

    assert units.begun == expect
    assert len(set(principals)) == 1
    assert principals[0] is not None


async def test_a_burst_reads_each_time_while_nothing_may_be_remembered(world: World) -> None:
    """Without revocations heard (no follower), waiting for another's read would gain nothing:
    every request reads at once."""
    token = await _key(world, world.principal("alice"))
    units = _GatedUnits(world.units)
    keys = ApiKeyAuthenticator(units, world.clock, PrincipalCache(world.clock, LONG))

    principals = await _burst(units, partial(keys.authenticate, _bearer(token)), expect=20)

    assert units.begun == 20
    assert None not in principals


async def test_a_fresh_read_is_remembered_for_the_requests_after_it(
    world: World, cache: PrincipalCache
) -> None:
    """A credential read again (a socket's re-check, a write) refreshes what the requests
    after it reuse."""
    token = await _key(world, world.principal("alice"))
    keys = ApiKeyAuthenticator(world.units, world.clock, cache)
    fresh = await keys.authenticate(replace(_bearer(token), reuse_recent=False))
    assert fresh is not None
    assert fresh.credential_id is not None
    world.store.live.api_keys.pop(ApiKeyId(fresh.credential_id))
    world.store.commit()
    assert await keys.authenticate(_bearer(token)) == fresh
