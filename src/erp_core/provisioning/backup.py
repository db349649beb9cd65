"""Stream a tenant database's backup (Odoo's zip) to disk with its checksum, and verify it.

The zip is never held in memory: chunks go to a temporary file while SHA-256 and size are
computed; the file is renamed into place only when complete and its index checks out.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from erp_core.drivers.base import OdooDatabaseManager

REQUIRED_MEMBERS = ("dump.sql", "manifest.json")


class BackupInvalid(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class StoredBackup:
    path: Path
    size: int
    sha256: str


def backup_path(root: Path, subdomain: str, kind: str, when: datetime | None = None) -> Path:
    stamp = (when or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return root / subdomain / f"{subdomain}-{stamp}-{kind}.zip"


async def stream_backup(odoo: OdooDatabaseManager, database: str, target: Path) -> StoredBackup:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".zip.partial")
    digest = hashlib.sha256()
    size = 0
    try:
        with partial.open("wb") as out:
            async with odoo.backup_stream(database) as chunks:
                async for chunk in chunks:
                    out.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
            out.flush()
            os.fsync(out.fileno())
        verify_zip(partial)
        partial.rename(target)
    finally:
        partial.unlink(missing_ok=True)
    return StoredBackup(target, size, digest.hexdigest())


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_zip(path: Path) -> None:
    """The zip opens and holds Odoo's dump.sql and manifest.json."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise BackupInvalid("El respaldo no es un archivo zip válido.") from exc
    missing = [m for m in REQUIRED_MEMBERS if m not in names]
    if missing:
        raise BackupInvalid("Al respaldo le faltan: " + ", ".join(missing) + ".")


def verify_stored(path: Path, expected_sha256: str) -> None:
    if not path.is_file():
        raise BackupInvalid("El archivo del respaldo no existe.")
    if file_sha256(path) != expected_sha256:
        raise BackupInvalid("La suma de comprobación del respaldo no coincide.")
    verify_zip(path)
