"""Billing metrics: 10,000 customers with 24 months of subscription history (created,
upgraded, canceled, paid invoices) built through the real event-processing path, then
uncached `GET /api/billing/metrics` (goal <= 300 ms) and the 24-month series (goal <= 1 s).
Baseline: an authenticated trivial route of the same app, sampled the same way.

    .venv/bin/python bench/bench_billing.py [--customers 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
from datetime import UTC, datetime, timedelta

import psycopg
from common import ROOT, report, scratch_database, sequential_latencies, serve, summary
from psycopg.types.json import Jsonb

sys.path.insert(0, str(ROOT / "tests" / "billing"))
from stripe_events import Events

from erp_core.composition import build_context
from erp_core.config import Settings


def history(customers: int, months: int, seed: int = 11) -> list[dict[str, object]]:
    rng = random.Random(seed)
    ev = Events()
    now = datetime.now(UTC)
    out = []
    for i in range(customers):
        cus, sub = f"cus_b{i}", f"sub_b{i}"
        start = now - timedelta(days=rng.uniform(1, months * 30.4))
        amount = rng.choice((2900, 4900, 9900, 19900))
        yearly = rng.random() < 0.2
        items = [(amount * 10, 1, "year")] if yearly else [(amount, rng.choice((1, 1, 2, 3)))]
        out.append(
            ev.event(
                "customer.subscription.created", ev.subscription(sub, cus, "active", items), start
            )
        )
        when = start
        if rng.random() < 0.3:  # an upgrade or downgrade later
            when = start + (now - start) * rng.uniform(0.2, 0.8)
            changed = (
                [(amount * 10 * 2, 1, "year")] if yearly else [(amount, rng.choice((1, 2, 4)))]
            )
            out.append(
                ev.event(
                    "customer.subscription.updated",
                    ev.subscription(sub, cus, "active", changed),
                    when,
                )
            )
        if rng.random() < 0.15:  # canceled
            end = when + (now - when) * rng.uniform(0.3, 0.95)
            out.append(
                ev.event(
                    "customer.subscription.deleted",
                    ev.subscription(sub, cus, "canceled", items),
                    end,
                )
            )
        paid = start + (now - start) * rng.uniform(0.01, 0.99)
        inv = ev.invoice(f"in_b{i}", cus, sub, amount, "paid", paid)
        out.append(ev.event("invoice.paid", inv, paid))
    return out


async def ingest(database_url: str, events: list[dict[str, object]]) -> float:
    with psycopg.connect(database_url) as conn, conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO stripe_events (event_id, event_type, payload, created, processed, attempts) "
            "VALUES (%s, %s, %s, to_timestamp(%s), false, 0)",
            [(e["id"], e["type"], Jsonb(e), e["created"]) for e in events],
        )
    settings = Settings(
        _env_file=None,
        database_url=database_url,
        erp_core_secret_key="bench-" * 4,  # type: ignore[call-arg]
        jwt_secret_key="bench-" * 4,
    )
    ctx = build_context(settings)
    from erp_core.billing.webhooks import process_batch

    started = asyncio.get_running_loop().time()
    async with ctx.queue.open_async():
        done = await process_batch(ctx, concurrency=8)
    elapsed = asyncio.get_running_loop().time() - started
    await ctx.close()
    assert done == len(events), f"processed {done} of {len(events)}"
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--samples", type=int, default=10)
    args = parser.parse_args()
    events = history(args.customers, args.months)
    now = datetime.now(UTC)
    first = (now.replace(day=1) - timedelta(days=31 * (args.months - 1))).strftime("%Y-%m")
    with scratch_database() as url:
        seconds = asyncio.run(ingest(url, events))
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
        with serve(url) as server:
            h, n = server.headers, args.samples
            sequential_latencies(server.url, h, ["/api/billing/metrics"] * 2)  # warm-up
            base = summary(sequential_latencies(server.url, h, ["/api/bench/baseline?of=tiny"] * n))
            month = summary(sequential_latencies(server.url, h, ["/api/billing/metrics"] * n))
            series = summary(
                sequential_latencies(
                    server.url,
                    h,
                    [f"/api/billing/metrics/series?from={first}&to={now:%Y-%m}"] * max(3, n // 2),
                )
            )
    report(
        "billing metrics (uncached)",
        {
            "customers / events": f"{args.customers} / {len(events)}",
            "events processed while seeding, per second": round(len(events) / seconds, 1),
            "baseline p50 ms": base["p50"],
            "GET /api/billing/metrics p50 / p95 ms (goal <= 300)": f"{month['p50']} / {month['p95']}",
            f"GET /api/billing/metrics/series ({args.months} months) p50 / max ms (goal <= 1000)": f"{series['p50']} / {series['max']}",
            "month ratio to baseline (p50)": round(month["p50"] / base["p50"], 1),
        },
    )


if __name__ == "__main__":
    main()
