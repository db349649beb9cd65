"""Where backup zips live: a `BackupStore` (local directory by default, S3 when configured).

A store keeps opaque objects under keys such as ``acme/acme-20260101T020000Z-scheduled-17.zip``.
Writes are atomic (a reader never sees half an object) and both directions stream in chunks,
so a multi-gigabyte backup never sits in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol, runtime_checkable

READ_CHUNK = 1 << 20
_SAFE_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*$")


class StoreError(Exception):
    """A store operation failed; ``message`` is Spanish and safe to show an operator."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class StoreNotConfigured(StoreError):
    pass


@dataclass(frozen=True)
class PutResult:
    key: str
    size: int
    sha256: str


@runtime_checkable
class BackupStore(Protocol):
    """Streamed, atomic object storage for backup zips."""

    name: str

    async def put(self, key: str, chunks: AsyncIterator[bytes]) -> PutResult:
        """Write ``chunks`` as ``key`` (replacing it), all or nothing; size and sha256 of it."""
        ...

    def open(self, key: str) -> AbstractAsyncContextManager[AsyncIterator[bytes]]:
        """``async with store.open(key) as chunks: async for chunk in chunks``."""
        ...

    def local_copy(self, key: str) -> AbstractAsyncContextManager[Path]:
        """A readable local file with the object's bytes (the file itself when local)."""
        ...

    async def exists(self, key: str) -> bool: ...

    async def delete(self, key: str) -> bool:
        """Remove ``key``; False when it was already gone (idempotent)."""
        ...

    async def list_keys(self) -> set[str]:
        """Every complete object's key (uploads in flight excluded), in one listing walk: the
        drift audit compares it with the backup rows."""
        ...


def backup_key(subdomain: str, kind: str, backup_id: int, when: datetime | None = None) -> str:
    stamp = (when or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return f"{subdomain}/{subdomain}-{stamp}-{kind}-{backup_id}.zip"


def check_key(key: str) -> str:
    """Keys are ours, but a key that could climb out of the root is refused all the same."""
    if not _SAFE_KEY.match(key) or ".." in key.split("/"):
        raise StoreError("La ubicación del respaldo no es válida.")
    return key


class LocalBackupStore:
    """A directory (BACKUP_DIR). Writes go to ``<key>.partial``, are fsynced and renamed."""

    name = "local"

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, key: str) -> Path:
        return self.root / check_key(key)

    async def put(self, key: str, chunks: AsyncIterator[bytes]) -> PutResult:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        digest = hashlib.sha256()
        size = 0
        try:
            with partial.open("wb") as out:
                async for chunk in chunks:
                    out.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
                out.flush()
                await asyncio.to_thread(os.fsync, out.fileno())
            partial.replace(target)
        finally:
            partial.unlink(missing_ok=True)
        return PutResult(key, size, digest.hexdigest())

    @asynccontextmanager
    async def open(self, key: str) -> AsyncIterator[AsyncIterator[bytes]]:
        path = self.path(key)
        try:
            handle = path.open("rb")
        except FileNotFoundError as exc:
            raise StoreError("El archivo del respaldo no existe.") from exc

        async def chunks() -> AsyncIterator[bytes]:
            while chunk := await asyncio.to_thread(handle.read, READ_CHUNK):
                yield chunk

        try:
            yield chunks()
        finally:
            handle.close()

    @asynccontextmanager
    async def local_copy(self, key: str) -> AsyncIterator[Path]:
        path = self.path(key)
        if not path.is_file():
            raise StoreError("El archivo del respaldo no existe.")
        yield path

    async def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    async def list_keys(self) -> set[str]:
        return await asyncio.to_thread(_walk, self.root)

    async def delete(self, key: str) -> bool:
        path = self.path(key)
        existed = path.is_file()
        path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            path.parent.rmdir()  # only when empty
        return existed


def _walk(root: Path) -> set[str]:
    """Keys under ``root``; ``.partial`` files are writes in flight, not objects yet."""
    if not root.is_dir():
        return set()
    return {
        path.relative_to(root).as_posix()
        for path in root.rglob("*")
        if path.is_file() and not path.name.endswith(".partial")
    }
