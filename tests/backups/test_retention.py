"""Retention: the pure rule over a simulated 100 days, and the same rule applied to the
database and the store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from erp_core.backups.retention import BackupFacts, RetentionPolicy, backups_to_delete
from erp_core.backups.schedule import apply_retention
from erp_core.context import AppContext
from erp_core.drivers.store import LocalBackupStore, backup_key
from erp_core.models import Backup, Customer, Tenant

START = date(2026, 1, 1)  # a Thursday
DAYS = 100
POLICY = RetentionPolicy(daily=7, weekly=4, monthly=3, other_days=90)


def _at(day: date, hour: int = 2) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def _expected_scheduled(last: date) -> set[date]:
    """Worked by hand from the rule, not from the implementation: the last 7 days, the
    last day present of each of the last 4 ISO weeks and of the last 3 months."""
    keep = {last - timedelta(days=i) for i in range(7)}
    for weeks_back in range(4):
        day = last - timedelta(weeks=weeks_back)
        sunday = day + timedelta(days=7 - day.isoweekday())
        keep.add(min(sunday, last))
    month_ends = {last}
    first = last.replace(day=1)
    for _ in range(2):
        end = first - timedelta(days=1)
        month_ends.add(end)
        first = end.replace(day=1)
    return keep | month_ends


def test_hundred_days_of_daily_backups_keep_exactly_the_policy_set() -> None:
    backups: list[BackupFacts] = []
    by_id: dict[int, date] = {}
    survivors: set[int] = set()
    next_id = 1
    last = START + timedelta(days=DAYS - 1)  # 2026-04-10, a Friday
    for offset in range(DAYS):
        day = START + timedelta(days=offset)
        backups.append(BackupFacts(next_id, 1, "scheduled", "succeeded", _at(day)))
        by_id[next_id] = day
        survivors.add(next_id)
        next_id += 1
        # Retention runs after every day's backup, as the hourly task would.
        current = [b for b in backups if b.id in survivors]
        survivors -= backups_to_delete(current, POLICY, _at(day, 3))
    kept_days = {by_id[i] for i in survivors}
    assert kept_days == _expected_scheduled(last)
    # Running it once over the whole history gives the same answer.
    once = {b.id for b in backups} - backups_to_delete(backups, POLICY, _at(last, 3))
    assert once == survivors
    # The worked example of docs/backups.md: 11 backups — 7 days (Apr 4-10; Sunday Apr 5
    # also stands for its week, Apr 10 for its week and April), 2 more Sundays, 2 month ends.
    assert sorted(kept_days) == sorted(
        [date(2026, 4, d) for d in range(4, 11)]
        + [date(2026, 3, 22), date(2026, 3, 29)]
        + [date(2026, 2, 28), date(2026, 3, 31)]
    )


def test_other_kinds_by_age_failures_and_the_newest_is_never_deleted() -> None:
    now = _at(date(2026, 6, 1), 12)
    old, recent = now - timedelta(days=120), now - timedelta(days=10)
    backups = [
        BackupFacts(1, 1, "manual", "succeeded", old),
        BackupFacts(2, 1, "pre-delete", "succeeded", recent),
        BackupFacts(3, 1, "pre-restore", "succeeded", old),
        BackupFacts(4, 1, "scheduled", "failed", old),
        BackupFacts(5, 1, "scheduled", "failed", recent),
        BackupFacts(6, 1, "scheduled", "running", old),
        # Tenant 2's only successful backup is a 400-day-old scheduled one: it stays.
        BackupFacts(7, 2, "scheduled", "succeeded", now - timedelta(days=400)),
        BackupFacts(8, 2, "manual", "failed", now - timedelta(days=200)),
    ]
    assert backups_to_delete(backups, POLICY, now) == {1, 3, 4, 8}
    # A per-tenant policy: tenant 1 keeps other kinds only 5 days.
    short = RetentionPolicy.merged(POLICY, {"other_days": 5, "daily": "x"})
    assert short.daily == 7 and short.other_days == 5
    assert backups_to_delete(backups, {1: short}, now, default=POLICY) == {1, 3, 4, 5, 8}


async def _tenant(ctx: AppContext) -> Tenant:
    async with ctx.db.sessionmaker() as session:
        customer = Customer(email="ret@example.com", company_name="Ret")
        session.add(customer)
        await session.flush()
        tenant = Tenant(
            customer_id=customer.id,
            subdomain="ret",
            company_name="Ret",
            plan="basic",
            status="active",
            admin_login="ret@example.com",
        )
        session.add(tenant)
        await session.commit()
        return tenant


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def test_retention_in_the_database_deletes_rows_and_objects(ctx: AppContext) -> None:
    tenant = await _tenant(ctx)
    store = LocalBackupStore(ctx.settings.effective_backup_dir)
    last = START + timedelta(days=DAYS - 1)
    async with ctx.db.sessionmaker() as session:
        for offset in range(DAYS):
            day = START + timedelta(days=offset)
            row = Backup(
                tenant_id=tenant.id,
                kind="scheduled",
                status="succeeded",
                database_name="ret",
                started_at=_at(day),
                finished_at=_at(day),
            )
            session.add(row)
            await session.flush()
            row.location = backup_key("ret", "scheduled", row.id, _at(day))
            await store.put(row.location, _chunks(b"zip %d" % row.id))
        await session.commit()
    result = await apply_retention(ctx, now=_at(last, 3))
    assert result.errors == []
    async with ctx.db.sessionmaker() as session:
        rows = list(await session.scalars(select(Backup).order_by(Backup.id)))
    alive = {r.finished_at.date() for r in rows if r.status == "succeeded" and r.finished_at}
    assert alive == _expected_scheduled(last)
    assert len(result.deleted) == DAYS - len(alive)
    for row in rows:
        assert row.location is not None
        assert (await store.exists(row.location)) == (row.status == "succeeded")
    # A second run has nothing left to do.
    assert (await apply_retention(ctx, now=_at(last, 4))).deleted == []
