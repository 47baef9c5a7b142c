from dataclasses import dataclass

from domain.identity.entities import User
from domain.identity.principals import Principal

__all__ = ("GetCurrentUser", "GetCurrentUserRequest", "GetCurrentUserResult")


@dataclass(frozen=True, slots=True, kw_only=True)
class GetCurrentUserRequest:
    actor: Principal


@dataclass(frozen=True, slots=True, kw_only=True)
class GetCurrentUserResult:
    user: User


class GetCurrentUser:
    """The profile of whoever is calling. Any authenticated caller may use it."""

    async def execute(self, request: GetCurrentUserRequest) -> GetCurrentUserResult:
        return GetCurrentUserResult(user=request.actor.user)
