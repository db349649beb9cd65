"""Dashboard: `GET /api/dashboard/all` (cache warm) with 10,000 tenants and 12 months of
history, against a baseline route in the same app (same auth and middleware) that returns the
same bytes from memory. Goal: >= 0.8 of the baseline's requests/s, p99 <= 20 ms at 32
concurrent clients; peak RSS of `serve` <= 300 MB.

    .venv/bin/python bench/bench_dashboard.py [--tenants 10000] [--seconds 10]
"""

from __future__ import annotations

import argparse

import httpx
import seed
from common import PeakRss, report, scratch_database, serve, wrk


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tenants", type=int, default=10_000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    with scratch_database() as url:
        seed.tenants(url, args.tenants)
        with serve(url, ERP_CORE_CACHE_TTL_SECONDS="600") as server:
            real = f"{server.url}/api/dashboard/all"
            base = f"{server.url}/api/bench/baseline?of=dashboard"
            cold = httpx.get(real, headers=server.headers, timeout=30)
            assert cold.status_code == 200 and cold.headers["x-cache"] == "miss"
            warm = httpx.get(real, headers=server.headers, timeout=30)
            assert warm.headers["x-cache"] == "hit"
            assert httpx.get(base, headers=server.headers, timeout=30).content == warm.content
            with PeakRss(server.proc.pid) as rss:
                wrk(base, server.headers, connections=args.connections, seconds=2)  # warm-up
                baseline = wrk(
                    base, server.headers, connections=args.connections, seconds=args.seconds
                )
                measured = wrk(
                    real, server.headers, connections=args.connections, seconds=args.seconds
                )
            ratio = measured.rps / baseline.rps
            report(
                "dashboard /api/dashboard/all (cache warm)",
                {
                    "tenants": args.tenants,
                    "response bytes": len(warm.content),
                    "baseline requests/s": round(baseline.rps, 1),
                    "dashboard requests/s": round(measured.rps, 1),
                    "ratio dashboard/baseline (goal >= 0.8)": round(ratio, 3),
                    "dashboard p50 / p90 / p99 ms (goal p99 <= 20)": f"{measured.p50_ms} / {measured.p90_ms} / {measured.p99_ms}",
                    "baseline p99 ms": baseline.p99_ms,
                    "errors (dashboard, baseline)": f"{measured.errors}, {baseline.errors}",
                    "peak RSS of serve MB (goal <= 300)": rss.peak_mb,
                },
            )


if __name__ == "__main__":
    main()
