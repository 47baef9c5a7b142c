from dataclasses import dataclass

from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWork
from application.secrets._shared import existing_name
from domain.identity.principals import Principal
from domain.secrets.entities import CustomSecret, SecretDescription, SecretValue
from domain.secrets.errors import SecretNotFoundError

__all__ = ("UpdateSecret", "UpdateSecretRequest", "UpdateSecretResult")


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateSecretRequest:
    actor: Principal
    name: str
    value: str | None = None
    """``None``: keep the value."""
    description: str | None = None
    """``None``: keep the description, unless ``clear_description``."""
    clear_description: bool = False

    def __repr__(self) -> str:
        return f"UpdateSecretRequest(name={self.name!r}, ...)"


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateSecretResult:
    secret: CustomSecret


class UpdateSecret:
    """Change the value and/or description of one of the caller's secrets; another person's
    secret, like a missing one, is ``secret-not-found``."""

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(self, request: UpdateSecretRequest) -> UpdateSecretResult:
        value = None if request.value is None else SecretValue(request.value)
        description = SecretDescription.optional(request.description)
        clear = request.clear_description or (request.description is not None and not description)
        name = existing_name(request.name)
        stored = await self._uow.secrets.get(request.actor.user.id_, name)
        if stored is None:
            raise SecretNotFoundError
        if value is None and description is None and not clear:
            return UpdateSecretResult(secret=stored)
        changed = stored.changed(
            value=value, description=description, clear_description=clear, now=self._clock.now()
        )
        await self._uow.secrets.save(changed)
        await self._uow.commit()
        return UpdateSecretResult(secret=changed)
