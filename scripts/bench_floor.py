"""The floor for `scripts/bench.py`: a bare Litestar app with no middleware, guard or DI.

`GET /hello` returns a constant msgspec struct of the same shape as our `GET /api/user/me`
profile, so the difference to our server is the request path, not the size of the JSON.
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


@get("/hello")
async def hello() -> Profile:
    return PROFILE


@get("/health", media_type="text/plain")
async def health() -> str:
    return "ok"


def create_app() -> Litestar:
    return Litestar(route_handlers=[hello, health], debug=False, logging_config=None)
