"""Shared benchmark plumbing: a scratch database, a real `erp-core serve` process, load from
another process (wrk), latency sampling and peak-RSS sampling. Loopback only; every load is
bounded in requests and time.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
import psycopg

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"
ADMIN_EMAIL = "bench@jeturing.com"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _server_url() -> str:
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    try:
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", connect_timeout=2):
            return "postgresql://postgres@127.0.0.1:5432/postgres"
    except psycopg.Error:
        import sys

        sys.path.insert(0, str(ROOT / "src"))
        from erp_core.db import start_embedded_postgres

        return start_embedded_postgres(ROOT / "var" / "bench-pg")


def _with_db(url: str, name: str) -> str:
    base, _, query = url.partition("?")
    return f"{base.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")


@contextlib.contextmanager
def scratch_database() -> Iterator[str]:
    """A migrated, empty database, dropped afterwards."""
    server = _server_url()
    name = f"erp_bench_{uuid.uuid4().hex[:8]}"
    admin = _with_db(server, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = _with_db(server, name)
    subprocess.run(
        [str(BIN / "erp-core"), "migrate"],
        env={**os.environ, "DATABASE_URL": url, "ERP_CORE_LOG_LEVEL": "WARNING"},
        check=True,
        capture_output=True,
    )
    try:
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
            )
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


@dataclass
class Server:
    url: str
    token: str
    proc: subprocess.Popen[bytes]
    var_dir: Path
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def refresh_token(self) -> None:
        self.token = login(self.url)


def login(url: str) -> str:
    resp = httpx.post(
        f"{url}/api/auth/login", json={"email": ADMIN_EMAIL, "password": _PASSWORD}, timeout=10
    )
    resp.raise_for_status()
    return str(resp.json()["data"]["access_token"])


_PASSWORD = secrets.token_urlsafe(18)


def server_env(database_url: str, var_dir: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ERP_CORE_", "CLOUDFLARE_", "ODOO_", "STRIPE_"))
    }
    env.update(
        {
            "DATABASE_URL": database_url,
            "ERP_CORE_VAR_DIR": str(var_dir),
            "ERP_CORE_ADMIN_EMAIL": ADMIN_EMAIL,
            "ERP_CORE_ADMIN_PASSWORD": _PASSWORD,
            "ERP_CORE_LOG_LEVEL": "WARNING",
            "ERP_CORE_BENCH_BASELINE": "true",
            "ACCESS_TOKEN_TTL_SECONDS": "3600",
        }
    )
    env.pop("REDIS_URL", None)
    env.update(extra)
    return env


@contextlib.contextmanager
def serve(
    database_url: str,
    *,
    lab: bool = False,
    workers: int = 0,
    in_process_worker: bool = True,
    **extra: str,
) -> Iterator[Server]:
    """`erp-core serve` (plus `workers` standalone worker processes) until the block ends."""
    var_dir = Path(tempfile.mkdtemp(prefix="erp-bench-"))
    port = free_port()
    env = server_env(
        database_url, var_dir, ERP_CORE_WORKER_IN_PROCESS=str(in_process_worker).lower(), **extra
    )
    args = [str(BIN / "erp-core"), "serve", "--port", str(port)] + (["--lab"] if lab else [])
    log = (var_dir / "serve.log").open("wb")
    proc = subprocess.Popen(args, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((var_dir / "serve.log").read_text()[-3000:])
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/api/health", timeout=1).status_code == 200:
                    break
            time.sleep(0.3)
        server = Server(url, login(url), proc, var_dir)
        for _ in range(workers):
            wlog = (var_dir / f"worker-{len(server.workers)}.log").open("wb")
            server.workers.append(
                subprocess.Popen(
                    [str(BIN / "erp-core"), "worker"],
                    env=env,
                    cwd=ROOT,
                    stdout=wlog,
                    stderr=subprocess.STDOUT,
                )
            )
        yield server
    finally:
        for p in [*getattr(locals().get("server"), "workers", []), proc]:
            p.send_signal(signal.SIGINT)
        for p in [*getattr(locals().get("server"), "workers", []), proc]:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        log.close()
        shutil.rmtree(var_dir, ignore_errors=True)


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
