from datetime import datetime, timedelta

import msgspec
from redis.asyncio import Redis
from redis.exceptions import RedisError

from application.errors import DependencyUnavailableError
from application.ports.login_attempts import LoginAttemptStore, PendingLogin, StartCount

__all__ = ("RedisLoginAttemptStore",)


class _Payload(msgspec.Struct, frozen=True):
    code_verifier: str
    nonce: str
    return_to: str
    idp_hint: str | None
    started_at: datetime


_COUNT_START = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {count, redis.call('PTTL', KEYS[1])}
"""


class RedisLoginAttemptStore(LoginAttemptStore):
    """One key per attempt with a TTL; ``GETDEL`` makes each usable once across instances.
    Starts are counted per client in a key that expires with its window (one script: atomic
    and shared by every instance)."""

    def __init__(self, client: Redis, prefix: str = "maestrist:login:") -> None:
        self._client = client
        self._prefix = prefix

    async def put(self, state: str, attempt: PendingLogin, ttl: timedelta) -> None:
        payload = msgspec.json.encode(
            _Payload(
                code_verifier=attempt.code_verifier,
                nonce=attempt.nonce,
                return_to=attempt.return_to,
                idp_hint=attempt.idp_hint,
                started_at=attempt.started_at,
            )
        )
        milliseconds = max(1, int(ttl / timedelta(milliseconds=1)))
        try:
            await self._client.set(self._prefix + state, payload, px=milliseconds)
        except (RedisError, OSError) as exc:
            raise DependencyUnavailableError("Redis cannot be reached.") from exc

    async def take(self, state: str) -> PendingLogin | None:
        try:
            raw = await self._client.getdel(self._prefix + state)
        except (RedisError, OSError) as exc:
            raise DependencyUnavailableError("Redis cannot be reached.") from exc
        if raw is None:
            return None
        try:
            payload = msgspec.json.decode(raw, type=_Payload)
        except msgspec.DecodeError:
            # Not something this store wrote (or from an older release): an unusable attempt,
            # which the sign-in treats like an expired one.
            return None
        return PendingLogin(
            code_verifier=payload.code_verifier,
            nonce=payload.nonce,
            return_to=payload.return_to,
            idp_hint=payload.idp_hint,
            started_at=payload.started_at,
        )

    async def count_start(self, client: str, window: timedelta) -> StartCount:
        key = f"{self._prefix}by-client:{client}"
        milliseconds = max(1, int(window / timedelta(milliseconds=1)))
        try:
            reply = await self._client.eval(_COUNT_START, 1, key, str(milliseconds))
            count, remaining = int(reply[0]), int(reply[1])
        except (RedisError, OSError) as exc:
            raise DependencyUnavailableError("Redis cannot be reached.") from exc
        return StartCount(
            count=count,
            resets_in=timedelta(milliseconds=remaining if remaining > 0 else milliseconds),
        )
