from redis.asyncio import Redis

__all__ = ("create_redis_client",)


def create_redis_client(url: str, *, timeout_s: float, max_connections: int) -> Redis:
    """A pooled client; connecting is lazy, so building one opens no socket."""
    return Redis.from_url(
        url,
        socket_connect_timeout=timeout_s,
        socket_timeout=timeout_s,
        max_connections=max_connections,
        health_check_interval=30,
        decode_responses=False,
    )
