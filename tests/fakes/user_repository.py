from application.ports.user_repository import UserRepository
from domain.identity.entities import User, UserId
from domain.identity.errors import UserSubjectTakenError
from domain.identity.value_objects import EmailAddress
from tests.fakes.store import FakeStore


class FakeUserRepository(UserRepository):
    def __init__(self, store: FakeStore) -> None:
        self._store = store

    async def get(self, user_id: UserId) -> User | None:
        return self._store.live.users.get(user_id)

    async def get_by_subject(self, subject: str) -> User | None:
        return next((u for u in self._store.live.users.values() if u.subject == subject), None)

    async def find_by_email(self, email: EmailAddress) -> User | None:
        wanted = email.value.lower()
        found = [u for u in self._store.live.users.values() if u.email.value.lower() == wanted]
        found.sort(key=lambda u: (not u.email_verified, u.created_at, u.id_))
        return found[0] if found else None

    async def add(self, user: User) -> None:
        if await self.get_by_subject(user.subject) is not None:
            raise UserSubjectTakenError
        self._store.live.users[user.id_] = user

    async def save(self, user: User) -> None:
        if user.id_ not in self._store.live.users:
            raise LookupError(f"user {user.id_} was never added")
        self._store.live.users[user.id_] = user
