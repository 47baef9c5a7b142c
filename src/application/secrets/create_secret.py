from dataclasses import dataclass

from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWork
from domain.identity.principals import Principal
from domain.secrets.entities import CustomSecret, SecretDescription, SecretName, SecretValue
from domain.secrets.errors import SecretNameTakenError

__all__ = ("CreateSecret", "CreateSecretRequest", "CreateSecretResult")


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateSecretRequest:
    actor: Principal
    name: str
    value: str
    description: str | None = None

    def __repr__(self) -> str:
        return f"CreateSecretRequest(name={self.name!r}, ...)"


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateSecretResult:
    secret: CustomSecret


class CreateSecret:
    """Keep a secret the agent's runtime will get as an environment variable. Names are unique
    per person (``secret-name-taken`` otherwise); the value is never shown again."""

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(self, request: CreateSecretRequest) -> CreateSecretResult:
        secret = CustomSecret.create(
            user_id=request.actor.user.id_,
            name=SecretName(request.name),
            value=SecretValue(request.value),
            description=SecretDescription.optional(request.description),
            now=self._clock.now(),
        )
        if await self._uow.secrets.get(secret.user_id, secret.name) is not None:
            raise SecretNameTakenError
        await self._uow.secrets.add(secret)
        await self._uow.commit()
        return CreateSecretResult(secret=secret)
