"""What an operator makes from the command line: a user with a personal organization, and
an API key for a user, held to the rules a person making their own key meets."""

import pytest

from application.api_keys import CreateApiKey
from application.api_keys.issue_api_key import IssueApiKey, IssueApiKeyRequest
from application.identity.create_user import (
    OPERATOR_SUBJECT_PREFIX,
    CreateUser,
    CreateUserRequest,
)
from domain.audit.entities import AuditAction
from domain.identity.errors import EmailTakenError, UserNotFoundError, UserSubjectTakenError
from domain.identity.scopes import Scope
from domain.organizations.entities import Membership, Role
from domain.organizations.errors import OrgNotFoundError
from domain.shared.errors import PermissionDeniedError
from tests.factories import create_org
from tests.unit.application.conftest import World


async def _create(world: World, **request: str) -> object:
    return await CreateUser(world.uow, world.clock).execute(CreateUserRequest(**request))


async def test_a_user_is_made_verified_with_a_personal_organization_and_audited(
    world: World,
) -> None:
    user = await CreateUser(world.uow, world.clock).execute(
        CreateUserRequest(email="Ops@Example.COM", display_name="  Ops\\nPerson ")
    )
    committed = world.store.committed
    assert committed.users[user.id_] == user
    assert (user.email.value, user.email_verified) == ("Ops@example.com", True)
    assert user.subject.startswith(OPERATOR_SUBJECT_PREFIX)
    [personal] = [o for o in committed.orgs.values() if o.personal_owner == user.id_]
    assert committed.memberships[(personal.id_, user.id_)].role is Role.OWNER
    [event] = committed.audit
    assert event.action is AuditAction.USER_PROVISIONED
    assert event.details == {"subject": user.subject, "created_by": "operator"}


async def test_a_taken_subject_or_address_is_refused(world: World) -> None:
    await _create(world, email="a@example.com", subject="oidc|42")
    with pytest.raises(UserSubjectTakenError):
        await _create(world, email="b@example.com", subject="oidc|42")
    with pytest.raises(EmailTakenError):
        await _create(world, email="A@EXAMPLE.com")
    assert len(world.store.committed.users) == 1


async def _issue(world: World, user: str, org: str | None, *scopes: Scope) -> object:
    use_case = IssueApiKey(world.uow, CreateApiKey(world.uow, world.clock))
    return await use_case.execute(
        IssueApiKeyRequest(user=user, org=org, name="ci", scopes=frozenset(scopes))
    )


async def test_a_key_is_issued_in_the_users_personal_or_named_organization(
    world: World,
) -> None:
    owner = world.principal("owner")
    member = world.principal("member")
    org, founder = create_org(owner.user)
    world.store.live.orgs[org.id_] = org
    world.store.live.memberships[(org.id_, owner.user.id_)] = founder
    world.store.live.memberships[(org.id_, member.user.id_)] = Membership(
        org_id=org.id_, user_id=member.user.id_, role=Role.MEMBER, joined_at=world.clock.now()
    )
    world.store.commit()
    user = await CreateUser(world.uow, world.clock).execute(
        CreateUserRequest(email="ops@example.com")
    )

    personal = await _issue(world, "ops@example.com", None, Scope.SETTINGS_READ)
    by_id = await _issue(world, str(member.user.id_), org.slug.value, Scope.CONVERSATIONS_READ)

    keys = {key.user_id: key for key in world.store.committed.api_keys.values()}
    assert keys[user.id_].org_id != org.id_
    assert keys[member.user.id_].org_id == org.id_
    assert personal is not None
    assert by_id is not None
    with pytest.raises(PermissionDeniedError):  # a member's key never holds org:admin
        await _issue(world, str(member.user.id_), str(org.id_), Scope.ORG_ADMIN)
    with pytest.raises(OrgNotFoundError):  # not the user's organization
        await _issue(world, "ops@example.com", org.slug.value, Scope.SETTINGS_READ)
    with pytest.raises(UserNotFoundError):
        await _issue(world, "nobody@example.com", None, Scope.SETTINGS_READ)
