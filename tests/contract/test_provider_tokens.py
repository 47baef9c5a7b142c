"""The ProviderTokenStore contract over the fake, SQLite and PostgreSQL: one token per user and
provider, scoped by user, transactional; the SQL adapter seals both tokens at rest."""

from dataclasses import replace
from datetime import timedelta

import pytest

from application.errors import DependencyUnavailableError
from domain.git.entities import ProviderToken
from domain.git.providers import GitHost, ProviderKind
from domain.identity.entities import UserId
from tests.backends import Backend, OpenPorts
from tests.factories import T0

ODD = "tøkén with 'quotes', %, _, \\ and ünïcødé ✓"


def _token(user_id: UserId, host: GitHost, **changes: object) -> ProviderToken:
    token = ProviderToken(
        user_id=user_id,
        host=host,
        access_token=f"access-{host.kind.value}-{user_id.hex[:8]}",
        refresh_token=f"refresh-{host.kind.value}-{user_id.hex[:8]}",
        expires_at=T0 + timedelta(hours=8),
        refresh_expires_at=T0 + timedelta(days=180),
        scopes="repo read:org",
        updated_at=T0,
    )
    return replace(token, **changes)  # type: ignore[arg-type]


async def _put(open_ports: OpenPorts, *tokens: ProviderToken) -> None:
    async with open_ports() as ports:
        for token in tokens:
            await ports.provider_tokens.put(token)
        await ports.uow.commit()


async def test_a_stored_token_reads_back_whole_in_a_later_transaction(
    users: list[UserId], open_ports: OpenPorts
) -> None:
    ada = users[0]
    github = _token(ada, GitHost(ProviderKind.GITHUB, "https://ghe.example.com"))
    gitlab = _token(
        ada,
        GitHost(ProviderKind.GITLAB),
        access_token=ODD,
        refresh_token=None,
        expires_at=None,
        refresh_expires_at=None,
        scopes=None,
    )
    await _put(open_ports, github, gitlab)
    async with open_ports() as ports:
        assert await ports.provider_tokens.get(ada, ProviderKind.GITHUB) == github
        assert await ports.provider_tokens.get(ada, ProviderKind.GITLAB) == gitlab
        assert await ports.provider_tokens.get(ada, ProviderKind.BITBUCKET) is None


async def test_put_replaces_the_users_token_for_that_provider(
    users: list[UserId], open_ports: OpenPorts
) -> None:
    ada = users[0]
    first = _token(ada, GitHost(ProviderKind.GITHUB))
    await _put(open_ports, first)
    second = _token(
        ada,
        GitHost(ProviderKind.GITHUB, "https://ghe.example.com"),
        access_token="newer",
        refresh_token=None,
        expires_at=None,
        refresh_expires_at=None,
        updated_at=T0 + timedelta(minutes=1),
    )
    await _put(open_ports, second)
    async with open_ports() as ports:
        assert await ports.provider_tokens.list_for(ada) == [second]


async def test_each_user_sees_only_their_own_tokens(
    users: list[UserId], open_ports: OpenPorts
) -> None:
    ada, bob = users
    mine = [_token(ada, GitHost(kind)) for kind in reversed(ProviderKind)]
    theirs = _token(bob, GitHost(ProviderKind.GITHUB))
    await _put(open_ports, *mine, theirs)
    async with open_ports() as ports:
        listed = await ports.provider_tokens.list_for(ada)
        assert [t.provider for t in listed] == sorted(ProviderKind, key=lambda kind: kind.value)
        assert await ports.provider_tokens.list_for(bob) == [theirs]
        assert await ports.provider_tokens.delete(bob, ProviderKind.GITLAB) is False
        assert await ports.provider_tokens.delete(ada, ProviderKind.GITHUB) is True
        await ports.uow.commit()
    async with open_ports() as ports:
        assert await ports.provider_tokens.get(ada, ProviderKind.GITHUB) is None
        assert await ports.provider_tokens.get(bob, ProviderKind.GITHUB) == theirs
        assert await ports.provider_tokens.delete(ada, ProviderKind.GITHUB) is False


async def test_uncommitted_changes_are_dropped(users: list[UserId], open_ports: OpenPorts) -> None:
    ada = users[0]
    kept = _token(ada, GitHost(ProviderKind.GITHUB))
    await _put(open_ports, kept)
    async with open_ports() as ports:
        await ports.provider_tokens.put(_token(ada, GitHost(ProviderKind.GITLAB)))
        await ports.provider_tokens.delete(ada, ProviderKind.GITHUB)
        await ports.uow.rollback()
        assert await ports.provider_tokens.list_for(ada) == [kept]


async def test_tokens_are_sealed_at_rest(
    backend: Backend, users: list[UserId], open_ports: OpenPorts
) -> None:
    if backend.execute is None:
        pytest.skip("the fake keeps no ciphertext")
    ada = users[0]
    token = _token(ada, GitHost(ProviderKind.GITHUB))
    await _put(open_ports, token)
    async with backend.execute("SELECT access_token, refresh_token FROM provider_tokens") as rows:
        stored = [str(value) for row in rows for value in row if value is not None]
    assert len(stored) == 2
    for value in stored:
        assert token.access_token not in value
        assert token.refresh_token is not None
        assert token.refresh_token not in value


async def test_a_token_copied_to_another_users_row_does_not_open_there(
    backend: Backend, users: list[UserId], open_ports: OpenPorts
) -> None:
    if backend.execute is None:
        pytest.skip("the fake keeps no ciphertext to copy")
    ada, bob = users
    github = GitHost(ProviderKind.GITHUB)
    adas, bobs = _token(ada, github, scopes="ada"), _token(bob, github, scopes="bob")
    await _put(open_ports, adas, bobs)
    async with backend.execute(
        "UPDATE provider_tokens SET access_token = (SELECT p.access_token FROM provider_tokens p "
        "WHERE p.scopes = 'ada') WHERE scopes = 'bob'"
    ):
        pass
    async with open_ports() as ports:
        assert await ports.provider_tokens.get(ada, ProviderKind.GITHUB) == adas
        with pytest.raises(DependencyUnavailableError):
            await ports.provider_tokens.get(bob, ProviderKind.GITHUB)
        with pytest.raises(DependencyUnavailableError):
            await ports.provider_tokens.list_for(bob)


async def test_a_token_copied_to_another_provider_does_not_open_there(
    backend: Backend, users: list[UserId], open_ports: OpenPorts
) -> None:
    if backend.execute is None:
        pytest.skip("the fake keeps no ciphertext to copy")
    ada = users[0]
    github, gitlab = (
        _token(ada, GitHost(ProviderKind.GITHUB)),
        _token(ada, GitHost(ProviderKind.GITLAB)),
    )
    await _put(open_ports, github, gitlab)
    async with backend.execute(
        "UPDATE provider_tokens SET refresh_token = (SELECT p.refresh_token FROM provider_tokens p "
        "WHERE p.provider = 'github') WHERE provider = 'gitlab'"
    ):
        pass
    async with open_ports() as ports:
        assert await ports.provider_tokens.get(ada, ProviderKind.GITHUB) == github
        with pytest.raises(DependencyUnavailableError):
            await ports.provider_tokens.get(ada, ProviderKind.GITLAB)
