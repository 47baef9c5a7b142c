from domain.identity.entities import User
from domain.identity.principals import Principal

__all__ = ("GetCurrentUser",)


class GetCurrentUser:
    """The profile of whoever is calling. Any authenticated caller may use it."""

    async def execute(self, actor: Principal) -> User:
        return actor.user
