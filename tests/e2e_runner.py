"""Browser tests: start `erp-core serve --lab` on a scratch database, run Playwright (Debian's
chromium) against it, stop everything. Exit code is Playwright's.

Used by `make test-e2e` (and so by `make test`). The database is created on the server named
by TEST_DATABASE_URL, or the embedded PostgreSQL when it is unset.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _database_server() -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    sys.path.insert(0, str(ROOT / "src"))
    from erp_core.db import start_embedded_postgres

    return start_embedded_postgres(ROOT / "var" / "test-pg")


def _with_db(url: str, name: str) -> str:
    base, _, query = url.partition("?")
    return f"{base.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")


def main() -> int:
    server = _database_server()
    name = f"erp_e2e_{uuid.uuid4().hex[:8]}"
    admin_url = _with_db(server, "postgres")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    port = _free_port()
    password = secrets.token_urlsafe(18)
    email = "admin@jeturing.com"
    var_dir = Path(tempfile.mkdtemp(prefix="erp-e2e-"))
    env = {
        **os.environ,
        "DATABASE_URL": _with_db(server, name),
        "ERP_CORE_ADMIN_EMAIL": email,
        "ERP_CORE_ADMIN_PASSWORD": password,
        "ERP_CORE_VAR_DIR": str(var_dir),
        "ERP_CORE_LOG_LEVEL": "WARNING",
    }
    env.pop("REDIS_URL", None)
    log = (var_dir / "serve.log").open("w")
    proc = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "erp-core"), "serve", "--lab", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                print((var_dir / "serve.log").read_text()[-4000:])
                return 1
            try:
                if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        else:
            print("erp-core serve did not become healthy in 90 s")
            return 1
        pw_env = {
            **os.environ,
            "E2E_BASE_URL": base,
            "E2E_EMAIL": email,
            "E2E_PASSWORD": password,
            "CI": "1",
        }
        result = subprocess.run(
            ["npx", "playwright", "test", "--reporter=line"],
            cwd=ROOT / "frontend",
            env=pw_env,
            timeout=900,
        )
        return result.returncode
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
            )
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


if __name__ == "__main__":
    sys.exit(main())
