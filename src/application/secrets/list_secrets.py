from dataclasses import dataclass

from application.ports.unit_of_work import UnitOfWork
from domain.identity.principals import Principal
from domain.secrets.entities import CustomSecret

__all__ = ("ListSecrets", "ListSecretsRequest", "ListSecretsResult")


@dataclass(frozen=True, slots=True, kw_only=True)
class ListSecretsRequest:
    actor: Principal


@dataclass(frozen=True, slots=True, kw_only=True)
class ListSecretsResult:
    secrets: tuple[CustomSecret, ...]
    """By name."""


class ListSecrets:
    """The caller's secrets by name; callers show names, descriptions and times only."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def execute(self, request: ListSecretsRequest) -> ListSecretsResult:
        found = await self._uow.secrets.list_for(request.actor.user.id_)
        return ListSecretsResult(secrets=tuple(found))
