"""Backup store: the stored objects (one directory walk) vs backup rows.

Missing file: a ``succeeded`` row whose object is gone. File with no row: an object no
non-deleted row points at (``.partial`` uploads in flight and the audit's own orphan-database
backups aside). Only the local store is listed for now; an S3 store is reported as not
audited (``configured()`` is false) rather than guessed.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from erp_core.context import AppContext
from erp_core.drivers.factory import store_for
from erp_core.drivers.store import LocalBackupStore
from erp_core.reconciliation import ORPHAN_BACKUP_PREFIX
from erp_core.reconciliation.checks.base import Observation, Snapshot

MISSING_BACKUP_FILE = "missing_backup_file"
ORPHAN_BACKUP_FILE = "orphan_backup_file"


def _walk(root: Path) -> set[str]:
    if not root.is_dir():
        return set()
    return {
        path.relative_to(root).as_posix()
        for path in root.rglob("*")
        if path.is_file() and not path.name.endswith(".partial")
    }


class BackupStoreCheck:
    source = "backups"

    def configured(self, ctx: AppContext) -> bool:
        return isinstance(store_for(ctx.settings), LocalBackupStore)

    async def observe(self, ctx: AppContext, snapshot: Snapshot) -> list[Observation]:
        store = store_for(ctx.settings)
        assert isinstance(store, LocalBackupStore)
        keys = await asyncio.to_thread(_walk, store.root)
        found: list[Observation] = []
        owned: set[str] = set()
        for row in snapshot.backups:
            if row.store != store.name or not row.location:
                continue
            if row.status != "deleted":
                owned.add(row.location)
            if row.status == "succeeded" and row.location not in keys:
                tenant = snapshot.tenants.get(row.tenant_id)
                found.append(
                    Observation(
                        MISSING_BACKUP_FILE,
                        f"backup:{row.id}",
                        f"Falta el archivo del respaldo {row.id} "
                        f"({tenant.subdomain if tenant else row.tenant_id}) en el almacén.",
                        tenant_id=row.tenant_id,
                        detail={"backup_id": row.id, "key": row.location},
                    )
                )
        for key in sorted(keys - owned):
            if key.startswith(ORPHAN_BACKUP_PREFIX):
                continue
            found.append(
                Observation(
                    ORPHAN_BACKUP_FILE,
                    f"store:{store.name}:{key}",
                    f"El archivo {key} del almacén de respaldos no corresponde a ningún respaldo.",
                    detail={"key": key, "store": store.name},
                )
            )
        return found
