"""The floor: a bare Litestar handler returning a small profile, for `scripts/bench.py`."""

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


PROFILE = Profile(
    id=UUID("01a202e0-956d-75e3-bb7b-4aaa57b4267d"),
    email="local@localhost",
    email_verified=True,
    display_name="Local user",
    avatar_url=None,
    created_at=datetime(2026, 11, 22, tzinfo=UTC),
)


@get("/hello")
async def hello() -> Profile:
    return PROFILE


@get("/health", media_type="text/plain")
async def health() -> str:
    return "ok"


def create_app() -> Litestar:
    return Litestar(route_handlers=[hello, health], debug=False, logging_config=None)
