"""A backup far larger than the memory it may use streams through: 300 MB of incompressible
filestore data go from the lab Odoo to the store while this process's resident memory
(worker, driver, store and the lab itself all live here) grows by a small fraction of it."""

from __future__ import annotations

import os
import threading
import time
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from erp_core.context import AppContext
from erp_core.drivers.store import LocalBackupStore
from erp_core.lab import LabStack
from erp_core.models import Backup

from .conftest import active_tenant, backup_now

SIZE = 300 * 1024 * 1024
MAX_GROWTH = 64 * 1024 * 1024


def _rss() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakRss:
    """Samples this process's resident set every few milliseconds in a thread."""

    def __init__(self) -> None:
        self.base = _rss()
        self.peak = self.base
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, _rss())

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def growth(self) -> int:
        return self.peak - self.base


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs Linux /proc")
async def test_a_300_mb_backup_streams_with_little_memory(
    client: httpx.AsyncClient,
    operator: dict[str, Any],
    lab_ctx: AppContext,
    lab_stack: LabStack,
    worker: None,
) -> None:
    h = operator["headers"]
    tenant = await active_tenant(client, h, "grande")
    # Warm up every code path once (small backup) so imports and pools are not counted.
    assert (await backup_now(client, h, tenant["id"]))["status"] == "succeeded"
    lab_stack.odoo_state.add_large_file("grande", "ab/large-attachment", SIZE, seed=8)

    started = time.monotonic()
    with PeakRss() as memory:
        job = await backup_now(client, h, tenant["id"])
    elapsed = time.monotonic() - started
    assert job["status"] == "succeeded", job["error"]

    async with lab_ctx.db.sessionmaker() as session:
        row = await session.scalar(
            select(Backup).where(Backup.job_id == job["id"]).order_by(Backup.id.desc())
        )
    assert row is not None and row.size_bytes is not None and row.location
    assert row.size_bytes > SIZE and row.verification_status == "ok"
    path = LocalBackupStore(lab_ctx.settings.effective_backup_dir).path(row.location)
    assert path.stat().st_size == row.size_bytes
    assert memory.growth < MAX_GROWTH, f"RSS grew {memory.growth / 2**20:.0f} MiB"
    assert elapsed < 30, f"took {elapsed:.1f} s"
    print(f"300 MB backup: {elapsed:.1f} s, RSS growth {memory.growth / 2**20:.1f} MiB")
    path.unlink()
