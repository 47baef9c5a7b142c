from dataclasses import dataclass

from application.git.connections import GitConnection
from application.ports.unit_of_work import UnitOfWork
from domain.identity.principals import Principal

__all__ = ("ListGitConnections", "ListGitConnectionsRequest", "ListGitConnectionsResult")


@dataclass(frozen=True, slots=True, kw_only=True)
class ListGitConnectionsRequest:
    actor: Principal


@dataclass(frozen=True, slots=True, kw_only=True)
class ListGitConnectionsResult:
    connections: list[GitConnection]


class ListGitConnections:
    """The caller's connected git providers, by provider; never their tokens."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def execute(self, request: ListGitConnectionsRequest) -> ListGitConnectionsResult:
        tokens = await self._uow.provider_tokens.list_for(request.actor.user.id_)
        return ListGitConnectionsResult(connections=[GitConnection.of(token) for token in tokens])
