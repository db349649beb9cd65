"""A bounded POST load generator, run as its own process by the benchmarks.

Reads a JSON file of requests ([{"body": str, "headers": {..}}]), sends each once with
`--concurrency` in flight, stops after the list or `--seconds`, prints JSON stats.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

import httpx


async def run(
    url: str, requests: list[dict[str, object]], concurrency: int, seconds: float
) -> dict[str, float]:
    queue: asyncio.Queue[dict[str, object]] = asyncio.Queue()
    for item in requests:
        queue.put_nowait(item)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async with httpx.AsyncClient(timeout=30, limits=limits) as http:

        async def worker() -> None:
            while time.monotonic() < deadline:
                try:
                    item = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                started = time.perf_counter()
                resp = await http.post(
                    url, content=str(item["body"]).encode(), headers=dict(item["headers"])
                )  # type: ignore[arg-type]
                latencies.append((time.perf_counter() - started) * 1000)
                statuses[resp.status_code] = statuses.get(resp.status_code, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "sent": len(latencies),
        "seconds": round(elapsed, 3),
        "per_second": round(len(latencies) / elapsed, 1),
        "p50_ms": round(latencies[len(latencies) // 2], 2) if latencies else 0.0,
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1], 2) if latencies else 0.0,
        "statuses": statuses,  # type: ignore[dict-item]
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("requests_file")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    with open(args.requests_file) as handle:
        requests = json.load(handle)
    print(json.dumps(asyncio.run(run(args.url, requests, args.concurrency, args.seconds))))


if __name__ == "__main__":
    main()
