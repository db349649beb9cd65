"""Resource metrics: hourly rollups, retention and range queries.

Raw samples (``resource_metrics``) are kept ``metrics_raw_retention_days`` (7); hourly
average/maximum rollups (``resource_metric_rollups``) ``metrics_hourly_retention_days``
(13 months). Rollups only cover complete hours and are recomputed idempotently; the raw
retention cut is aligned to an hour so no rolled-up hour is ever recomputed from a partial
set. Range queries read raw samples for fine steps within the raw window and rollups
otherwise, each through its (subject, time) index.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from erp_core.config import Settings

MetricKind = Literal["node", "container"]
HOUR = 3600
MAX_POINTS = 5000
ROLLUP_LOOKBACK = timedelta(hours=48)

_FIELDS = ("cpu", "ram", "disk", "netin", "netout")

_ROLLUP_SQL = text(
    """
    INSERT INTO resource_metric_rollups (
        kind, subject_id, bucket, samples,
        cpu_avg, cpu_max, ram_avg, ram_max, disk_avg, disk_max,
        netin_avg, netin_max, netout_avg, netout_max)
    SELECT CASE WHEN node_id IS NOT NULL THEN 'node' ELSE 'container' END,
           COALESCE(node_id, container_id),
           date_trunc('hour', "timestamp" AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
           count(*),
           avg(cpu), max(cpu), avg(ram), max(ram), avg(disk), max(disk),
           avg(netin), max(netin), avg(netout), max(netout)
    FROM resource_metrics
    WHERE "timestamp" >= :since AND "timestamp" < :until
    GROUP BY 1, 2, 3
    ON CONFLICT (kind, subject_id, bucket) DO UPDATE SET
        samples = excluded.samples,
        cpu_avg = excluded.cpu_avg, cpu_max = excluded.cpu_max,
        ram_avg = excluded.ram_avg, ram_max = excluded.ram_max,
        disk_avg = excluded.disk_avg, disk_max = excluded.disk_max,
        netin_avg = excluded.netin_avg, netin_max = excluded.netin_max,
        netout_avg = excluded.netout_avg, netout_max = excluded.netout_max
    """
)


def hour_floor(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


async def rollup_metrics(
    session: AsyncSession, *, now: datetime | None = None, since: datetime | None = None
) -> int:
    """Roll up every complete hour from ``since`` (default: 48 h back) to the current hour."""
    until = hour_floor(now or datetime.now(UTC))
    start = hour_floor(since) if since else until - ROLLUP_LOOKBACK
    result: Any = await session.execute(_ROLLUP_SQL, {"since": start, "until": until})
    return int(result.rowcount or 0)


@dataclass(frozen=True)
class PruneResult:
    rolled_up: int
    raw_deleted: int
    rollups_deleted: int


async def prune_metrics(
    session: AsyncSession, settings: Settings, *, now: datetime | None = None
) -> PruneResult:
    """Roll up what is about to go, then drop raw samples and rollups past retention."""
    moment = now or datetime.now(UTC)
    raw_cut = hour_floor(moment - timedelta(days=settings.metrics_raw_retention_days))
    rollup_cut = moment - timedelta(days=settings.metrics_hourly_retention_days)
    oldest = await session.scalar(text('SELECT min("timestamp") FROM resource_metrics'))
    rolled = 0
    if oldest is not None and oldest < raw_cut:
        rolled = await rollup_metrics(session, now=raw_cut, since=oldest)
    raw: Any = await session.execute(
        text('DELETE FROM resource_metrics WHERE "timestamp" < :cut'), {"cut": raw_cut}
    )
    old: Any = await session.execute(
        text("DELETE FROM resource_metric_rollups WHERE bucket < :cut"), {"cut": rollup_cut}
    )
    return PruneResult(rolled, int(raw.rowcount or 0), int(old.rowcount or 0))


def choose_step(start: datetime, end: datetime, step: int | None) -> int:
    """The bucket width in seconds: the caller's, or one giving about 300 points."""
    span = (end - start).total_seconds()
    if step is None:
        step = max(60, math.ceil(span / 300))
    return step


_HOURLY_SQL = """
    SELECT date_bin(make_interval(secs => :step), bucket, :origin) AS t,
           sum(cpu_avg * samples) / sum(samples) AS cpu, max(cpu_max) AS cpu_max,
           sum(ram_avg * samples) / sum(samples) AS ram, max(ram_max) AS ram_max,
           sum(disk_avg * samples) / sum(samples) AS disk, max(disk_max) AS disk_max,
           sum(netin_avg * samples) / sum(samples) AS netin, max(netin_max) AS netin_max,
           sum(netout_avg * samples) / sum(samples) AS netout, max(netout_max) AS netout_max,
           sum(samples) AS samples
    FROM resource_metric_rollups
    WHERE kind = :kind AND subject_id = :subject AND bucket >= :start AND bucket < :end
    GROUP BY t ORDER BY t
"""
_RAW_COLUMNS = """
    SELECT date_bin(make_interval(secs => :step), "timestamp", :origin) AS t,
           avg(cpu) AS cpu, max(cpu) AS cpu_max, avg(ram) AS ram, max(ram) AS ram_max,
           avg(disk) AS disk, max(disk) AS disk_max, avg(netin) AS netin,
           max(netin) AS netin_max, avg(netout) AS netout, max(netout) AS netout_max,
           count(*) AS samples
    FROM resource_metrics
"""
_RAW_SQL = {
    "node": _RAW_COLUMNS
    + """WHERE node_id = :subject AND "timestamp" >= :start AND "timestamp" < :end
    GROUP BY t ORDER BY t""",
    "container": _RAW_COLUMNS
    + """WHERE container_id = :subject AND "timestamp" >= :start AND "timestamp" < :end
    GROUP BY t ORDER BY t""",
}


def range_query(kind: MetricKind, *, hourly: bool) -> tuple[str, str]:
    """SQL text of a range query (used by :func:`query_metrics` and by EXPLAIN in tests)."""
    if hourly:
        return _HOURLY_SQL, "hourly"
    return _RAW_SQL[kind], "raw"


def uses_rollups(settings: Settings, start: datetime, step: int, now: datetime) -> bool:
    raw_from = now - timedelta(days=settings.metrics_raw_retention_days)
    return step >= HOUR or start < raw_from


async def query_metrics(
    session: AsyncSession,
    settings: Settings,
    *,
    kind: MetricKind,
    subject_id: int,
    start: datetime,
    end: datetime,
    step: int,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Points ``{t, cpu, cpu_max, ram, …, samples}`` between start and end, one per step."""
    moment = now or datetime.now(UTC)
    hourly = uses_rollups(settings, start, step, moment)
    if hourly:
        step = max(HOUR, math.ceil(step / HOUR) * HOUR)
    sql, source = range_query(kind, hourly=hourly)
    params: dict[str, Any] = {
        "step": step,
        "origin": datetime(2000, 1, 1, tzinfo=UTC),
        "subject": subject_id,
        "start": start,
        "end": end,
    }
    if hourly:
        params["kind"] = kind
    rows = (await session.execute(text(sql), params)).mappings().all()
    points = []
    for row in rows:
        point: dict[str, Any] = {"t": row["t"].astimezone(UTC).isoformat()}
        for field in _FIELDS:
            point[field] = _num(row[field])
            point[f"{field}_max"] = _num(row[f"{field}_max"])
        point["samples"] = int(row["samples"])
        points.append(point)
    return {"points": points, "source": source, "step": step}


def _num(value: Any) -> float | None:
    return None if value is None else round(float(value), 6)
