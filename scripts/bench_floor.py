"""The floor for `scripts/bench.py`: a bare Litestar app with no middleware, guard or DI.

`GET /hello` returns a constant msgspec struct of the same shape as our `GET /api/user/me`
profile, so the difference to our server is the request path, not the size of the JSON.
`GET /items` returns 20 constant msgspec structs (about 1.4 KB of JSON), the list route of the
project's performance notes, for `scripts/bench_clustered.py` to hold our lists against.
Only a benchmark target: `granian --interface asgi --factory ... scripts.bench_floor:create_app`.
"""

from datetime import UTC, datetime
from uuid import UUID

import msgspec
from litestar import Litestar, get


class Profile(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    id: UUID
    email: str
    email_verified: bool
    display_name: str
    avatar_url: str | None
    created_at: datetime
    terms_accepted_version: str | None


PROFILE = Profile(
    id=UUID("01a202e0-956d-75e3-bb7b-4aaa57b4267d"),
    email="local@localhost",
    email_verified=True,
    display_name="Local user",
    avatar_url=None,
    created_at=datetime(2026, 11, 22, 11, 40, 44, 123456, tzinfo=UTC),
    terms_accepted_version=None,
)


class Item(msgspec.Struct):
    id: int
    name: str
    price: float
    tags: list[str]
    active: bool


ITEMS = [
    Item(id=i, name=f"item-{i}", price=i * 1.5, tags=["a", "b"], active=i % 2 == 0)
    for i in range(20)
]


@get("/hello")
async def hello() -> Profile:
    return PROFILE


@get("/items")
async def items() -> list[Item]:
    return ITEMS


@get("/health", media_type="text/plain")
async def health() -> str:
    return "ok"


def create_app() -> Litestar:
    return Litestar(route_handlers=[hello, items, health], debug=False, logging_config=None)
