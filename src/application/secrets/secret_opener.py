from collections.abc import Mapping

from application.ports.unit_of_work import UnitOfWork
from domain.identity.entities import UserId

__all__ = ("SecretOpener",)


class SecretOpener:
    """Every custom secret of a user, opened, as the environment the runtime sets; for the code
    that starts conversations. It reads within the caller's unit of work."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def open_for(self, user_id: UserId) -> Mapping[str, str]:
        return {s.name.value: s.value.value for s in await self._uow.secrets.list_for(user_id)}
