from application.identity import (
    GetCurrentUser,
    LocalUserAuthenticator,
    ProvisionLocalUser,
    ProvisionLocalUserRequest,
    RejectAllAuthenticator,
)
from application.ports.authenticator import Credentials
from domain.audit.entities import AuditAction
from domain.identity.entities import LOCAL_USER_SUBJECT
from tests.unit.application.conftest import World


def _provision(world: World) -> ProvisionLocalUser:
    return ProvisionLocalUser(world.users, world.audit, world.uow, world.clock)


async def test_first_start_provisions_and_audits_the_local_user(world: World) -> None:
    user = await _provision(world).execute(
        ProvisionLocalUserRequest(email="Me@Example.COM", display_name="Me")
    )
    assert world.store.committed.users == {user.id_: user}
    assert user.subject == LOCAL_USER_SUBJECT
    assert user.email.value == "Me@example.com"
    assert user.email_verified is True
    [event] = world.store.committed.audit
    assert event.action is AuditAction.USER_PROVISIONED
    assert event.target_id == str(user.id_)


async def test_later_starts_keep_the_stored_user(world: World) -> None:
    first = await _provision(world).execute(
        ProvisionLocalUserRequest(email="me@example.com", display_name="Me")
    )
    again = await _provision(world).execute(
        ProvisionLocalUserRequest(email="other@example.com", display_name="Other")
    )
    assert again.id_ == first.id_
    assert again.email.value == "me@example.com"
    assert len(world.store.committed.users) == 1
    assert len(world.store.committed.audit) == 1


async def test_local_authenticator_acts_as_the_local_user_whatever_is_sent(world: World) -> None:
    sut = LocalUserAuthenticator(world.users)
    assert await sut.authenticate(Credentials()) is None
    user = await _provision(world).execute(
        ProvisionLocalUserRequest(email="me@example.com", display_name="Me")
    )
    principal = await sut.authenticate(Credentials(authorization="Bearer whatever"))
    assert principal is not None
    assert principal.user.id_ == user.id_
    assert await GetCurrentUser().execute(principal) == user


async def test_reject_all_authenticator_proves_nobody() -> None:
    sut = RejectAllAuthenticator()
    assert await sut.authenticate(Credentials(authorization="Bearer x", cookies={"s": "y"})) is None
