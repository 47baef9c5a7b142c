from dataclasses import dataclass

from application.ports.unit_of_work import UnitOfWork
from application.secrets._shared import existing_name
from domain.identity.principals import Principal
from domain.secrets.errors import SecretNotFoundError

__all__ = ("DeleteSecret", "DeleteSecretRequest")


@dataclass(frozen=True, slots=True, kw_only=True)
class DeleteSecretRequest:
    actor: Principal
    name: str


class DeleteSecret:
    """Forget one of the caller's secrets; a missing one (or another person's) is
    ``secret-not-found``."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def execute(self, request: DeleteSecretRequest) -> None:
        if not await self._uow.secrets.delete(request.actor.user.id_, existing_name(request.name)):
            raise SecretNotFoundError
        await self._uow.commit()
