import asyncio

import pytest

from application.identity import (
    ApiKeyAuthenticator,
    GetCurrentUser,
    GetCurrentUserRequest,
    LocalUserAuthenticator,
    ProvisionLocalUser,
    ProvisionLocalUserRequest,
)
from application.identity.access_gates import signed_in_person
from application.identity.local_user_authenticator import LocalAccessPolicy, LocalUserCache
from domain.audit.entities import AuditAction
from domain.identity.entities import LOCAL_USER_SUBJECT, User
from domain.identity.principals import AuthMethod, Credentials, Principal
from domain.shared.errors import PermissionDeniedError
from tests.factories import create_user
from tests.unit.application.conftest import World


def _provision(world: World) -> ProvisionLocalUser:
    return ProvisionLocalUser(world.units, world.clock)


def _local_authenticator(world: World) -> LocalUserAuthenticator:
    keys = ApiKeyAuthenticator(world.units, world.clock, world.principals)
    return LocalUserAuthenticator(world.units, keys, LocalAccessPolicy(), LocalUserCache())


async def test_first_start_provisions_the_local_user_with_a_personal_org(world: World) -> None:
    user = (
        await _provision(world).execute(
            ProvisionLocalUserRequest(email="Me@Example.COM", display_name="Me")
        )
    ).user
    assert world.store.committed.users == {user.id_: user}
    assert user.subject == LOCAL_USER_SUBJECT
    assert user.email.value == "Me@example.com"
    assert user.email_verified is True
    [personal] = world.store.committed.orgs.values()
    assert personal.personal_owner == user.id_
    assert personal.name.value == "Me (personal)"
    [event] = world.store.committed.audit
    assert event.action is AuditAction.USER_PROVISIONED
    assert event.target_id == str(user.id_)


async def test_later_starts_keep_the_stored_user(world: World) -> None:
    first = (
        await _provision(world).execute(
            ProvisionLocalUserRequest(email="me@example.com", display_name="Me")
        )
    ).user
    again = (
        await _provision(world).execute(
            ProvisionLocalUserRequest(email="other@example.com", display_name="Other")
        )
    ).user
    assert again.id_ == first.id_
    assert again.email.value == "me@example.com"
    assert len(world.store.committed.users) == 1
    assert len(world.store.committed.orgs) == 1
    assert len(world.store.committed.audit) == 1


async def test_a_user_from_before_personal_orgs_gets_one(world: World) -> None:
    user = (
        await _provision(world).execute(
            ProvisionLocalUserRequest(email="me@example.com", display_name="Me")
        )
    ).user
    world.store.live.orgs.clear()
    world.store.live.memberships.clear()
    world.store.commit()
    await _provision(world).execute(ProvisionLocalUserRequest(email="x@y.z", display_name="X"))
    assert await world.orgs.get_personal(user.id_) is not None


async def test_local_authenticator_acts_as_the_local_user_without_credentials(
    world: World,
) -> None:
    sut = _local_authenticator(world)
    assert await sut.authenticate(Credentials()) is None
    user = (
        await _provision(world).execute(
            ProvisionLocalUserRequest(email="me@example.com", display_name="Me")
        )
    ).user
    principal = await sut.authenticate(Credentials())
    assert principal is not None
    assert principal.user.id_ == user.id_
    assert principal.method is AuthMethod.LOCAL
    assert (await GetCurrentUser().execute(GetCurrentUserRequest(actor=principal))).user == user


async def test_local_authenticator_refuses_a_bad_credential_instead_of_falling_back(
    world: World,
) -> None:
    await _provision(world).execute(
        ProvisionLocalUserRequest(email="me@example.com", display_name="Me")
    )
    sut = _local_authenticator(world)
    for header in ("Bearer whatever", "Bearer mst_x", "Basic abc"):
        assert await sut.authenticate(Credentials(authorization=header)) is None


async def test_an_expired_local_user_is_read_once_for_a_burst_of_requests() -> None:
    """A burst of requests arriving as the cache expires costs one read, not one each."""
    user = create_user(LOCAL_USER_SUBJECT)
    reads = 0
    release = asyncio.Event()

    async def load() -> User | None:
        nonlocal reads
        reads += 1
        await release.wait()
        return user

    cache = LocalUserCache(ttl_s=60)
    waiting = [asyncio.create_task(cache.get_or_load(load)) for _ in range(50)]
    await asyncio.sleep(0)
    release.set()
    assert await asyncio.gather(*waiting) == [user] * 50
    assert reads == 1
    assert await cache.get_or_load(load) is user
    assert reads == 1


async def test_the_local_user_is_read_again_once_the_cache_expires() -> None:
    """The cache remembers the user for its time to live only, and never remembers that
    there was none: a user provisioned meanwhile is found on the next request."""
    user = create_user(LOCAL_USER_SUBJECT)
    answers: list[User | None] = [None, user, user]

    async def load() -> User | None:
        return answers.pop(0)

    cache = LocalUserCache(ttl_s=0)
    assert await cache.get_or_load(load) is None
    assert cache.get() is None
    assert await cache.get_or_load(load) is user
    assert cache.get() is None
    assert await cache.get_or_load(load) is user
    assert answers == []
    remembered = LocalUserCache(ttl_s=60)
    remembered.put(user)
    assert remembered.get() is user


def test_the_local_user_is_told_it_has_no_account_at_a_provider() -> None:
    """What changing an email or resending a verification answers the embedded binding's
    local user: refused, with the reason in words (the problem document's detail)."""
    local = Principal(user=create_user(LOCAL_USER_SUBJECT), method=AuthMethod.LOCAL)
    with pytest.raises(PermissionDeniedError) as refused:
        signed_in_person(local)
    assert str(refused.value) == "The local user has no account at an identity provider."
    person = create_user("sub-ada")
    assert signed_in_person(Principal(user=person, method=AuthMethod.SESSION)) is person
