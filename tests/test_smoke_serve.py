"""`erp-core serve` as a real process on an empty data dir: it starts its own PostgreSQL,
migrates, prints the first admin's password once, and that password logs in."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_starts_on_empty_dir_and_admin_logs_in(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_URL", "ERP_CORE_", "JWT_"))
    }
    env.update({"ERP_CORE_VAR_DIR": str(tmp_path / "var"), "ERP_CORE_LOG_LEVEL": "WARNING"})
    env.pop("REDIS_URL", None)
    cmd = [sys.executable, "-m", "erp_core.cli", "serve", "--port", str(port)]
    out_path = tmp_path / "stdout.txt"
    with out_path.open("w") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.DEVNULL, cwd=tmp_path)
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            healthy = False
            while time.monotonic() < deadline and proc.poll() is None:
                try:
                    if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                        healthy = True
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.3)
            assert healthy, out_path.read_text()
            printed = out_path.read_text()
            match = re.search(r"Contraseña:\s+(\S+)", printed)
            email = re.search(r"Correo electrónico:\s+(\S+)", printed)
            assert match and email, printed
            login = httpx.post(
                f"{base}/api/auth/login",
                json={"email": email.group(1), "password": match.group(1)},
                timeout=10,
            )
            assert login.status_code == 200
            assert (tmp_path / "var" / "pgdata" / "PG_VERSION").exists()
            assert (tmp_path / "var" / "keys" / "jwt_secret").stat().st_mode & 0o077 == 0
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
