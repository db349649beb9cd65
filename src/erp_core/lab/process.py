"""A real control plane in a child process on a scratch database — for the browser tests,
the API fuzzing and the benchmarks (loopback only).

`scratch_database()` creates and migrates a throwaway database on the server named by
BENCH_DATABASE_URL / TEST_DATABASE_URL (else the machine's PostgreSQL, else the embedded
one) and drops it afterwards; `running_server()` starts `erp-core serve` on a free port with
a known admin and stops it (SIGINT, then kill) when the block ends.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg

from erp_core.db import start_embedded_postgres

ROOT = Path(__file__).resolve().parents[3]
ADMIN_EMAIL = "admin@jeturing.com"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _server_url() -> str:
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    with contextlib.suppress(psycopg.Error):
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", connect_timeout=2):
            return "postgresql://postgres@127.0.0.1:5432/postgres"

    return start_embedded_postgres(ROOT / "var" / "test-pg")


def with_database(url: str, name: str) -> str:
    base, _, query = url.partition("?")
    return f"{base.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")


def _cli() -> list[str]:
    return [sys.executable, "-m", "erp_core.cli"]


@contextlib.contextmanager
def scratch_database(prefix: str = "erp_scratch") -> Iterator[str]:
    server = _server_url()
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = with_database(server, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = with_database(server, name)
    try:
        env = {**os.environ, "DATABASE_URL": url, "ERP_CORE_LOG_LEVEL": "WARNING"}
        subprocess.run([*_cli(), "migrate"], env=env, check=True, capture_output=True)
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
            )
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


@dataclass
class RunningServer:
    url: str
    email: str
    password: str
    proc: subprocess.Popen[bytes]
    var_dir: Path
    env: dict[str, str]
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def login(self) -> str:
        resp = httpx.post(
            f"{self.url}/api/auth/login",
            json={"email": self.email, "password": self.password},
            timeout=10,
        )
        resp.raise_for_status()
        return str(resp.json()["data"]["access_token"])

    def log_tail(self, chars: int = 4000) -> str:
        return (self.var_dir / "serve.log").read_text(errors="replace")[-chars:]

    def start_worker(self) -> subprocess.Popen[bytes]:
        log = (self.var_dir / f"worker-{len(self.workers)}.log").open("wb")
        worker = subprocess.Popen(
            [*_cli(), "worker"], env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
        )
        self.workers.append(worker)
        return worker


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


def backup_window_away_from(now: datetime) -> tuple[int, int]:
    """A one-hour backup window (UTC start, end hours) that opens two hours after ``now``.

    For test servers and test settings: inside the default window (01–05 UTC) the per-minute
    schedule backs up every active tenant, so a suite run at 03:00 met scheduled backups that
    one at 15:00 never did (a delete or a manual backup answered 409 ``TENANT_BUSY``). Tests of
    the schedule set their own window."""
    start = (now.astimezone(UTC).hour + 2) % 24
    return start, (start + 1) % 24 or 24


@contextlib.contextmanager
def running_server(
    database_url: str, *, lab: bool = True, startup_timeout: float = 90, **env_extra: str
) -> Iterator[RunningServer]:
    """`erp-core serve [--lab]` until the block ends; environment names with ERP_CORE_,
    CLOUDFLARE_, ODOO_ or STRIPE_ from the caller are not inherited."""
    var_dir = Path(tempfile.mkdtemp(prefix="erp-serve-"))
    port = free_port()
    password = secrets.token_urlsafe(18)
    window_start, window_end = backup_window_away_from(datetime.now(UTC))
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ERP_CORE_", "CLOUDFLARE_", "ODOO_", "STRIPE_", "REDIS_URL"))
    }
    env.update(
        {
            "DATABASE_URL": database_url,
            "ERP_CORE_VAR_DIR": str(var_dir),
            "ERP_CORE_ADMIN_EMAIL": ADMIN_EMAIL,
            "ERP_CORE_ADMIN_PASSWORD": password,
            "ERP_CORE_LOG_LEVEL": "WARNING",
            "BACKUP_WINDOW_START": str(window_start),
            "BACKUP_WINDOW_END": str(window_end),
            **env_extra,
        }
    )
    args = [*_cli(), "serve", "--port", str(port), *(["--lab"] if lab else [])]
    log = (var_dir / "serve.log").open("wb")
    proc = subprocess.Popen(args, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    server = RunningServer(f"http://127.0.0.1:{port}", ADMIN_EMAIL, password, proc, var_dir, env)
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("erp-core serve did not start:\n" + server.log_tail())
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{server.url}/api/health", timeout=1).status_code == 200:
                    break
            time.sleep(0.3)
        yield server
    finally:
        for worker in server.workers:
            _stop(worker)
        _stop(proc)
        log.close()
        shutil.rmtree(var_dir, ignore_errors=True)
