"""A small cache with TTLs: Redis when REDIS_URL is set, in-process otherwise.

A cache outage must never become a user-facing error: every Redis call degrades to "miss"
(or a no-op) with a warning in the log, rate-limited so a dead Redis does not flood it.
"""

from __future__ import annotations

import logging
import time
from typing import Protocol

log = logging.getLogger(__name__)


class Cache(Protocol):
    async def get(self, key: str) -> bytes | None: ...
    async def set(self, key: str, value: bytes, ttl: float) -> None: ...
    async def delete(self, *keys: str) -> None: ...
    async def incr(self, key: str, ttl: float) -> int: ...
    async def ping(self) -> bool: ...
    async def close(self) -> None: ...


class MemoryCache:
    """Per-process cache; good for one `serve` process and for tests."""

    def __init__(self, max_items: int = 10_000) -> None:
        self._items: dict[str, tuple[float, bytes]] = {}
        self._max = max_items

    def _alive(self, key: str) -> bytes | None:
        item = self._items.get(key)
        if item is None:
            return None
        if item[0] < time.monotonic():
            self._items.pop(key, None)
            return None
        return item[1]

    async def get(self, key: str) -> bytes | None:
        return self._alive(key)

    async def set(self, key: str, value: bytes, ttl: float) -> None:
        if len(self._items) >= self._max:
            now = time.monotonic()
            self._items = {k: v for k, v in self._items.items() if v[0] >= now}
            if len(self._items) >= self._max:
                self._items.pop(next(iter(self._items)))
        self._items[key] = (time.monotonic() + ttl, value)

    async def delete(self, *keys: str) -> None:
        for key in keys:
            self._items.pop(key, None)

    async def incr(self, key: str, ttl: float) -> int:
        current = self._alive(key)
        value = int(current or b"0") + 1
        expires = self._items[key][0] if current is not None else time.monotonic() + ttl
        self._items[key] = (expires, str(value).encode())
        return value

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        self._items.clear()


class RedisCache:
    """Redis-backed cache shared by every process; failures degrade to misses."""

    def __init__(self, url: str, *, prefix: str = "erp-core:") -> None:
        import redis.asyncio as redis

        self._redis = redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._prefix = prefix
        self._last_warning = 0.0

    def _warn(self, op: str, exc: Exception) -> None:
        now = time.monotonic()
        if now - self._last_warning > 30:
            self._last_warning = now
            log.warning(
                "redis unavailable, serving without cache", extra={"op": op, "err": str(exc)}
            )

    async def get(self, key: str) -> bytes | None:
        try:
            value = await self._redis.get(self._prefix + key)
        except Exception as exc:
            self._warn("get", exc)
            return None
        return value if isinstance(value, bytes) else None

    async def set(self, key: str, value: bytes, ttl: float) -> None:
        try:
            await self._redis.set(self._prefix + key, value, px=max(1, int(ttl * 1000)))
        except Exception as exc:
            self._warn("set", exc)

    async def delete(self, *keys: str) -> None:
        if not keys:
            return
        try:
            await self._redis.delete(*(self._prefix + k for k in keys))
        except Exception as exc:
            self._warn("delete", exc)

    async def incr(self, key: str, ttl: float) -> int:
        """Counter for rate limits; when Redis is down, limiting is skipped (fail open)."""
        try:
            pipe = self._redis.pipeline()
            pipe.incr(self._prefix + key)
            pipe.pexpire(self._prefix + key, int(ttl * 1000), nx=True)
            result = await pipe.execute()
            return int(result[0])
        except Exception as exc:
            self._warn("incr", exc)
            return 0

    async def ping(self) -> bool:
        return bool(await self._redis.ping())

    async def close(self) -> None:
        try:
            await self._redis.aclose()
        except Exception as exc:
            self._warn("close", exc)


def make_cache(redis_url: str | None) -> Cache:
    return RedisCache(redis_url) if redis_url else MemoryCache()
