"""The local store writes all or nothing, streams reads, and refuses keys that climb out."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from erp_core.drivers.store import (
    LocalBackupStore,
    StoreError,
    backup_key,
)


async def _chunks(*parts: bytes, fail: bool = False) -> AsyncIterator[bytes]:
    for part in parts:
        yield part
    if fail:
        raise ConnectionError("the server went away mid-transfer")


async def test_put_open_delete_round_trip(tmp_path: Path) -> None:
    store = LocalBackupStore(tmp_path)
    key = backup_key("acme", "manual", 7)
    assert key.startswith("acme/acme-") and key.endswith("-manual-7.zip")
    put = await store.put(key, _chunks(b"abc", b"def"))
    assert put.size == 6 and put.sha256 == hashlib.sha256(b"abcdef").hexdigest()
    assert await store.exists(key)
    async with store.open(key) as chunks:
        assert b"".join([c async for c in chunks]) == b"abcdef"
    async with store.local_copy(key) as path:
        assert path.read_bytes() == b"abcdef"
    assert await store.delete(key) is True
    assert await store.delete(key) is False
    assert not (tmp_path / "acme").exists()  # the empty folder goes too


async def test_an_interrupted_write_leaves_nothing_and_keeps_the_old_object(
    tmp_path: Path,
) -> None:
    store = LocalBackupStore(tmp_path)
    key = "acme/a.zip"
    await store.put(key, _chunks(b"old"))
    with pytest.raises(ConnectionError):
        await store.put(key, _chunks(b"new", b"half", fail=True))
    assert store.path(key).read_bytes() == b"old"
    assert sorted(p.name for p in (tmp_path / "acme").iterdir()) == ["a.zip"]


async def test_keys_cannot_escape_the_root_and_missing_objects_say_so(tmp_path: Path) -> None:
    store = LocalBackupStore(tmp_path)
    for bad in ("../etc/passwd", "/abs.zip", "a/../../b", ""):
        with pytest.raises(StoreError):
            store.path(bad)
    with pytest.raises(StoreError, match="no existe"):
        async with store.open("acme/missing.zip"):
            pass
