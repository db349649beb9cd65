"""The Redis cache against the machine's real Redis (database from TEST_REDIS_URL)."""

from __future__ import annotations

import os
import uuid

import pytest

from erp_core.cache import RedisCache

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
async def cache() -> RedisCache:
    redis_cache = RedisCache(REDIS_URL, prefix=f"test-{uuid.uuid4().hex}:")
    if not await _reachable(redis_cache):
        pytest.skip("Redis is not reachable at TEST_REDIS_URL")
    return redis_cache


async def _reachable(cache: RedisCache) -> bool:
    try:
        return await cache.ping()
    except Exception:
        return False


async def test_set_get_delete_and_ttl(cache: RedisCache) -> None:
    await cache.set("k", b"v", 5)
    assert await cache.get("k") == b"v"
    await cache.delete("k")
    assert await cache.get("k") is None
    await cache.set("short", b"x", 0.05)
    import asyncio

    await asyncio.sleep(0.2)
    assert await cache.get("short") is None
    await cache.close()


async def test_incr_counts_within_window(cache: RedisCache) -> None:
    assert [await cache.incr("rl", 10) for _ in range(3)] == [1, 2, 3]
    await cache.close()
