"""Listing: `GET /api/tenants` deep pages and searches over 100,000 tenants; goal p95 <= 30 ms.
Baseline: a trivial authenticated route in the same app, sampled the same way in the same run.

    .venv/bin/python bench/bench_listing.py [--tenants 100000] [--samples 100]
"""

from __future__ import annotations

import argparse
import random

import seed
from common import report, scratch_database, sequential_latencies, serve, summary


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tenants", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=100)
    args = parser.parse_args()
    rng = random.Random(7)
    with scratch_database() as url:
        seed.tenants(url, args.tenants)
        with serve(url) as server:
            n = args.samples
            last_page = args.tenants * 6 // 7 // 25
            cases = {
                "first page": ["/api/tenants?per_page=25"] * n,
                "deep pages": [
                    f"/api/tenants?per_page=25&page={rng.randint(last_page // 2, last_page)}"
                    for _ in range(n)
                ],
                "search company": [
                    f"/api/tenants?q=Empresa%20{rng.randint(1, args.tenants)}" for _ in range(n)
                ],
                "search quote (O'Brien)": ["/api/tenants?q=O%27Brien&per_page=25"] * n,
                "filter status+plan, sort subdomain": [
                    "/api/tenants?status=suspended&plan=pro&sort=subdomain"
                ]
                * n,
            }
            sequential_latencies(server.url, server.headers, ["/api/tenants"] * 20)  # warm-up
            baseline = summary(
                sequential_latencies(
                    server.url, server.headers, ["/api/bench/baseline?of=tiny"] * n
                )
            )
            lines: dict[str, object] = {
                "tenants": args.tenants,
                "baseline p50/p95 ms": f"{baseline['p50']} / {baseline['p95']}",
            }
            for name, paths in cases.items():
                stats = summary(sequential_latencies(server.url, server.headers, paths))
                lines[f"{name}: p50 / p95 ms (goal p95 <= 30)"] = f"{stats['p50']} / {stats['p95']}"
                lines[f"{name}: p95 ratio to baseline"] = round(stats["p95"] / baseline["p95"], 2)
            report("listing /api/tenants", lines)


if __name__ == "__main__":
    main()
