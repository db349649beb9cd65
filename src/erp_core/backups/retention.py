"""Which backups retention removes: a pure function of the backups, a policy and `now`.

Scheduled backups: keep the newest successful one of each of the last `daily` UTC days,
`weekly` ISO weeks and `monthly` calendar months (today, this week and this month count;
one backup may stand for a day, a week and a month at once). Other kinds (manual,
pre-delete, pre-restore) and failed attempts are kept `other_days` days. Whatever the
rules say, the newest successful backup of a tenant is never removed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any


@dataclass(frozen=True)
class BackupFacts:
    id: int
    tenant_id: int
    kind: str
    status: str  # running | succeeded | failed | deleted
    finished_at: datetime | None


@dataclass(frozen=True)
class RetentionPolicy:
    daily: int = 7
    weekly: int = 4
    monthly: int = 3
    other_days: int = 90

    @classmethod
    def merged(cls, base: RetentionPolicy, override: Mapping[str, Any] | None) -> RetentionPolicy:
        """``base`` with a plan's overrides (unknown keys and non-integers ignored)."""
        values = {
            "daily": base.daily,
            "weekly": base.weekly,
            "monthly": base.monthly,
            "other_days": base.other_days,
        }
        for key, value in (override or {}).items():
            if key in values and isinstance(value, int) and not isinstance(value, bool):
                values[key] = max(0, value)
        values["other_days"] = max(1, values["other_days"])
        return cls(**values)


def _month_back(day: date, months: int) -> tuple[int, int]:
    index = day.year * 12 + (day.month - 1) - months
    return index // 12, index % 12 + 1


def _newest_per_bucket(
    backups: list[BackupFacts], bucket: Callable[[date], Hashable], wanted: set[Hashable]
) -> set[int]:
    newest: dict[Hashable, BackupFacts] = {}
    for backup in backups:
        assert backup.finished_at is not None
        key = bucket(backup.finished_at.astimezone(UTC).date())
        if key in wanted and (
            key not in newest or (backup.finished_at, backup.id) > _order(newest[key])
        ):
            newest[key] = backup
    return {b.id for b in newest.values()}


def _order(backup: BackupFacts) -> tuple[datetime, int]:
    assert backup.finished_at is not None
    return backup.finished_at, backup.id


def _tenant_deletions(
    backups: list[BackupFacts], policy: RetentionPolicy, now: datetime
) -> set[int]:
    successful = [b for b in backups if b.status == "succeeded" and b.finished_at is not None]
    keep: set[int] = set()
    if successful:
        keep.add(max(successful, key=_order).id)
    today = now.astimezone(UTC).date()
    scheduled = [b for b in successful if b.kind == "scheduled"]
    days = {today - timedelta(days=i) for i in range(policy.daily)}
    weeks = {(today - timedelta(weeks=i)).isocalendar()[:2] for i in range(policy.weekly)}
    months = {_month_back(today, i) for i in range(policy.monthly)}
    keep |= _newest_per_bucket(scheduled, lambda d: d, set(days))
    keep |= _newest_per_bucket(scheduled, lambda d: d.isocalendar()[:2], set(weeks))
    keep |= _newest_per_bucket(scheduled, lambda d: (d.year, d.month), set(months))
    cutoff = now - timedelta(days=policy.other_days)
    doomed: set[int] = set()
    for backup in backups:
        if backup.id in keep or backup.status in ("running", "deleted"):
            continue
        if backup.status == "succeeded" and backup.kind == "scheduled":
            doomed.add(backup.id)
        elif backup.finished_at is not None and backup.finished_at < cutoff:
            doomed.add(backup.id)
    return doomed


def backups_to_delete(
    backups: Iterable[BackupFacts],
    policy: RetentionPolicy | Mapping[int, RetentionPolicy],
    now: datetime,
    *,
    default: RetentionPolicy | None = None,
) -> set[int]:
    """Ids retention removes. ``policy`` is one policy for all, or one per tenant id
    (tenants missing from the mapping get ``default``, or the built-in defaults)."""
    by_tenant: dict[int, list[BackupFacts]] = defaultdict(list)
    for backup in backups:
        by_tenant[backup.tenant_id].append(backup)
    doomed: set[int] = set()
    for tenant_id, rows in by_tenant.items():
        if isinstance(policy, RetentionPolicy):
            chosen = policy
        else:
            chosen = policy.get(tenant_id, default or RetentionPolicy())
        doomed |= _tenant_deletions(rows, chosen, now)
    return doomed
