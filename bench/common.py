"""Shared benchmark plumbing: a scratch database, a real `erp-core serve` process, load from
another process (wrk), latency sampling and peak-RSS sampling. Loopback only; every load is
bounded in requests and time.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import statistics
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil

from erp_core.lab.process import RunningServer, running_server, scratch_database

__all__ = ["scratch_database"]

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Server:
    """A running `erp-core serve` with an admin token (see erp_core.lab.process)."""

    running: RunningServer
    token: str

    @property
    def url(self) -> str:
        return self.running.url

    @property
    def proc(self) -> subprocess.Popen[bytes]:
        return self.running.proc

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@contextlib.contextmanager
def serve(
    database_url: str, *, lab: bool = False, workers: int = 0, **extra: str
) -> Iterator[Server]:
    """`erp-core serve` with the bench baseline route (plus `workers` standalone workers)."""
    env = {
        "ERP_CORE_BENCH_BASELINE": "true",
        "ACCESS_TOKEN_TTL_SECONDS": "3600",
        "LOGIN_RATE_LIMIT_PER_IP": "100000",
        **extra,
    }
    with running_server(database_url, lab=lab, **env) as running:
        for _ in range(workers):
            running.start_worker()
        yield Server(running, running.login())


def ensure_wrk() -> str:
    path = shutil.which("wrk")
    if path:
        return path
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, capture_output=True, env=env)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "wrk"], check=True, capture_output=True, env=env
    )
    found = shutil.which("wrk")
    assert found, "wrk could not be installed"
    return found


@dataclass
class LoadResult:
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    requests: int
    errors: int


def _ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(us|ms|s)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(
    url: str, headers: dict[str, str], *, connections: int = 32, seconds: int = 10, threads: int = 2
) -> LoadResult:
    """Closed-loop load from another process, bounded by `seconds`."""
    args = [
        ensure_wrk(),
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "--timeout",
        "5s",
    ]
    for key, value in headers.items():
        args += ["-H", f"{key}: {value}"]
    out = subprocess.run(
        [*args, url], capture_output=True, text=True, timeout=seconds + 30, check=True
    ).stdout
    pct = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", out, re.M))
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = int(non2xx.group(1)) if non2xx else 0
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if sock:
        errors += sum(int(x) for x in sock.groups())
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    return LoadResult(rps, _ms(pct["50"]), _ms(pct["90"]), _ms(pct["99"]), total, errors)


def sequential_latencies(url: str, headers: dict[str, str], paths: list[str]) -> list[float]:
    """Milliseconds per request, one at a time (what an operator's click feels like)."""
    out = []
    with httpx.Client(base_url=url, headers=headers, timeout=30) as http:
        for path in paths:
            started = time.perf_counter()
            resp = http.get(path)
            resp.raise_for_status()
            out.append((time.perf_counter() - started) * 1000)
    return out


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered)) - 1))
    return ordered[index]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "p50": round(statistics.median(values), 2),
        "p95": round(percentile(values, 95), 2),
        "max": round(max(values), 2),
    }


class PeakRss:
    """Samples a process's resident memory every 50 ms in a thread; `.peak_mb` afterwards."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(psutil.Error):
                self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.05)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak_mb(self) -> float:
        return round(self.peak / 2**20, 1)


def report(name: str, lines: dict[str, Any]) -> None:
    print(f"\n== {name}")
    for key, value in lines.items():
        print(f"   {key:<44} {value}")
