"""Backup store: the stored objects (one directory walk) vs backup rows.

Missing file: a ``succeeded`` row whose object is gone. File with no row: an object no
non-deleted row points at (uploads in flight and the audit's own orphan-database backups
aside). The configured store lists itself (a directory walk, or S3's ListObjectsV2 pages), so
the local and the S3 store are audited the same way; a store that cannot be listed makes the
source ``failed`` with the store's message, never an empty (all-missing) listing.
"""

from __future__ import annotations

from erp_core.context import AppContext
from erp_core.drivers.factory import store_for
from erp_core.drivers.store import StoreError
from erp_core.reconciliation import ORPHAN_BACKUP_PREFIX
from erp_core.reconciliation.checks.base import Observation, Snapshot

MISSING_BACKUP_FILE = "missing_backup_file"
ORPHAN_BACKUP_FILE = "orphan_backup_file"


class BackupStoreCheck:
    source = "backups"

    def configured(self, ctx: AppContext) -> bool:
        try:
            store_for(ctx.settings)
        except StoreError:  # e.g. S3 chosen without a bucket: not configured, not failed
            return False
        return True

    async def observe(self, ctx: AppContext, snapshot: Snapshot) -> list[Observation]:
        store = store_for(ctx.settings)
        keys = await store.list_keys()
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
