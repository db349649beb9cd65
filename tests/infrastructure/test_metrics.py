"""Rollups, retention and range queries on generated samples (real PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from erp_core.context import AppContext
from erp_core.infrastructure import metrics
from erp_core.infrastructure.service import explain
from erp_core.models import LxcContainer, MetricRollup, ProxmoxNode, ResourceMetric

NOW = datetime(2026, 11, 24, 12, 30, tzinfo=UTC)
H0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


async def _subjects(ctx: AppContext) -> tuple[int, int]:
    async with ctx.db.sessionmaker() as session:
        node = ProxmoxNode(hostname="pve1", status="online")
        session.add(node)
        await session.flush()
        container = LxcContainer(vmid=1000, node_id=node.id, status="running")
        session.add(container)
        await session.commit()
        return node.id, container.id


async def _sample(ctx: AppContext, at: datetime, value: float, **subject: int) -> None:
    async with ctx.db.sessionmaker() as session:
        session.add(
            ResourceMetric(
                cpu=value,
                ram=int(value * 1000),
                disk=int(value * 10),
                netin=value * 100,
                netout=value * 50,
                timestamp=at,
                **subject,
            )
        )
        await session.commit()


async def test_hourly_rollup_gives_averages_and_maxima(ctx: AppContext) -> None:
    node_id, container_id = await _subjects(ctx)
    values = {0: [0.1, 0.2, 0.6], 1: [0.5], 2: [0.3, 0.3]}
    for hour, series in values.items():
        for i, value in enumerate(series):
            at = H0 + timedelta(hours=hour, minutes=10 * i)
            await _sample(ctx, at, value, container_id=container_id)
            await _sample(ctx, at, value * 2, node_id=node_id)
    # the current, incomplete hour is left alone
    await _sample(ctx, NOW - timedelta(minutes=5), 0.9, container_id=container_id)
    async with ctx.db.sessionmaker() as session:
        assert await metrics.rollup_metrics(session, now=NOW) == 6
        await session.commit()
        rows = list(
            await session.scalars(
                select(MetricRollup)
                .where(MetricRollup.kind == "container")
                .order_by(MetricRollup.bucket)
            )
        )
        node_rows = list(
            await session.scalars(
                select(MetricRollup)
                .where(MetricRollup.kind == "node")
                .order_by(MetricRollup.bucket)
            )
        )
    assert [r.bucket for r in rows] == [H0, H0 + timedelta(hours=1), H0 + timedelta(hours=2)]
    assert [r.samples for r in rows] == [3, 1, 2]
    assert rows[0].cpu_avg == pytest.approx(0.3) and rows[0].cpu_max == pytest.approx(0.6)
    assert rows[0].ram_avg == pytest.approx(300) and rows[0].ram_max == 600
    assert rows[0].netin_avg == pytest.approx(30) and rows[0].netout_max == pytest.approx(30)
    assert rows[2].cpu_avg == pytest.approx(0.3) and rows[2].disk_max == 3
    assert [r.subject_id for r in rows] == [container_id] * 3
    assert node_rows[0].cpu_avg == pytest.approx(0.6) and node_rows[0].cpu_max == pytest.approx(1.2)

    # idempotent: a second run recomputes the same figures
    async with ctx.db.sessionmaker() as session:
        await metrics.rollup_metrics(session, now=NOW)
        await session.commit()
        assert await session.scalar(select(func.count()).select_from(MetricRollup)) == 6

    # a 3-hour bucket over rollups weighs each hour by its samples: (0.9 + 0.5 + 0.6) / 6
    async with ctx.db.sessionmaker() as session:
        series = await metrics.query_metrics(
            session, ctx.settings, kind="container", subject_id=container_id,
            start=H0, end=H0 + timedelta(hours=3), step=3 * 3600, now=NOW,
        )  # fmt: skip
    assert series["source"] == "hourly" and len(series["points"]) == 1
    point = series["points"][0]
    assert point["cpu"] == pytest.approx(2.0 / 6) and point["cpu_max"] == pytest.approx(0.6)
    assert point["samples"] == 6

    # fine steps inside the raw window read raw samples
    async with ctx.db.sessionmaker() as session:
        raw = await metrics.query_metrics(
            session, ctx.settings, kind="container", subject_id=container_id,
            start=H0, end=H0 + timedelta(hours=1), step=1200, now=NOW,
        )  # fmt: skip
    assert raw["source"] == "raw"
    assert [p["cpu"] for p in raw["points"]] == pytest.approx([0.15, 0.6])


async def test_retention_rolls_up_then_prunes(ctx: AppContext) -> None:
    _, container_id = await _subjects(ctx)
    old_hour = datetime(2026, 11, 10, 8, 0, tzinfo=UTC)  # 14 days before NOW: past raw retention
    await _sample(ctx, old_hour + timedelta(minutes=1), 0.2, container_id=container_id)
    await _sample(ctx, old_hour + timedelta(minutes=2), 0.4, container_id=container_id)
    recent = NOW - timedelta(days=2)
    await _sample(ctx, recent, 0.7, container_id=container_id)
    async with ctx.db.sessionmaker() as session:
        for months_ago, value in ((14, 0.1), (12, 0.2)):
            session.add(
                MetricRollup(
                    kind="container", subject_id=container_id,
                    bucket=metrics.hour_floor(NOW - timedelta(days=30 * months_ago)),
                    samples=1, cpu_avg=value, cpu_max=value, ram_avg=0, ram_max=0,
                    disk_avg=0, disk_max=0, netin_avg=0, netin_max=0, netout_avg=0, netout_max=0,
                )
            )  # fmt: skip
        await session.commit()

    async with ctx.db.sessionmaker() as session:
        result = await metrics.prune_metrics(session, ctx.settings, now=NOW)
        await session.commit()
    assert result.raw_deleted == 2 and result.rollups_deleted == 1
    async with ctx.db.sessionmaker() as session:
        kept = list(await session.scalars(select(ResourceMetric.timestamp)))
        rollups = {r.bucket: r for r in await session.scalars(select(MetricRollup))}
    assert kept == [recent]
    assert rollups[old_hour].cpu_avg == pytest.approx(0.3)
    assert rollups[old_hour].cpu_max == pytest.approx(0.4)
    assert metrics.hour_floor(NOW - timedelta(days=360)) in rollups
    assert metrics.hour_floor(NOW - timedelta(days=420)) not in rollups


async def test_range_queries_use_their_indexes_at_scale(ctx: AppContext) -> None:
    """100 containers × 13 months of hourly rollups, plus a day of raw samples each."""
    async with ctx.db.sessionmaker() as session:
        await session.execute(
            text(
                "INSERT INTO proxmox_nodes (hostname, status, cpu_total, ram_total, disk_total) "
                "VALUES ('pve1', 'online', 8, 1, 1)"
            )
        )
        await session.execute(
            text(
                "INSERT INTO lxc_containers (vmid, node_id, status, cpu_cores, ram_mb, disk_gb) "
                "SELECT 1000 + g, (SELECT id FROM proxmox_nodes), 'running', 1, 1, 1 "
                "FROM generate_series(1, 100) g"
            )
        )
        await session.execute(
            text(
                "INSERT INTO resource_metric_rollups (kind, subject_id, bucket, samples, "
                "cpu_avg, cpu_max, ram_avg, ram_max, disk_avg, disk_max, netin_avg, netin_max, "
                "netout_avg, netout_max) "
                "SELECT 'container', c.id, h, 60, 0.2, 0.5, 1e9, 2e9, 5e9, 5e9, 1e3, 5e3, 1e3, 5e3 "
                "FROM lxc_containers c, generate_series(:start, :end, interval '1 hour') h"
            ),
            {"start": NOW - timedelta(days=396), "end": NOW},
        )
        await session.execute(
            text(
                "INSERT INTO resource_metrics (container_id, cpu, ram, disk, netin, netout, "
                '"timestamp") SELECT c.id, 0.2, 1, 1, 1, 1, m FROM lxc_containers c, '
                "generate_series(:start, :end, interval '1 minute') m"
            ),
            {"start": NOW - timedelta(days=1), "end": NOW},
        )
        await session.commit()
    async with ctx.db.engine.connect() as conn:
        await conn.execute(text("ANALYZE resource_metric_rollups"))
        await conn.execute(text("ANALYZE resource_metrics"))
        await conn.commit()
    async with ctx.db.sessionmaker() as session:
        total = await session.scalar(select(func.count()).select_from(MetricRollup))
        assert total is not None and total >= 100 * 396 * 24
        subject = await session.scalar(select(LxcContainer.id).where(LxcContainer.vmid == 1050))
        params = {
            "step": 86400,
            "origin": datetime(2000, 1, 1, tzinfo=UTC),
            "subject": subject,
            "start": NOW - timedelta(days=396),
            "end": NOW,
            "kind": "container",
        }
        hourly_sql, _ = metrics.range_query("container", hourly=True)
        plan = await explain(session, hourly_sql, params)
        assert "pk_resource_metric_rollups" in plan, plan
        assert "Seq Scan" not in plan, plan
        raw_sql, _ = metrics.range_query("container", hourly=False)
        raw_params = {**params, "step": 300, "start": NOW - timedelta(hours=6)}
        raw_params.pop("kind")
        plan = await explain(session, raw_sql, raw_params)
        assert "ix_resource_metrics_container_id_timestamp" in plan, plan
        assert "Seq Scan" not in plan, plan
        series = await metrics.query_metrics(
            session, ctx.settings, kind="container", subject_id=subject or 0,
            start=NOW - timedelta(days=396), end=NOW, step=86400, now=NOW,
        )  # fmt: skip
    assert 396 <= len(series["points"]) <= 398
    assert series["points"][10]["cpu"] == pytest.approx(0.2)
    assert series["points"][10]["cpu_max"] == pytest.approx(0.5)
    assert series["points"][10]["samples"] == 24 * 60
