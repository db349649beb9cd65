"""Lighthouse on the real app: `erp-core serve --lab` on a scratch database (as the e2e runner
does), then `frontend/scripts/lighthouse.mjs` (one Debian Chromium, five pages, thresholds of
issue 19). Exit code is the script's. Used by `make test-lighthouse`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from erp_core.lab.process import running_server, scratch_database

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    with (
        scratch_database("erp_lighthouse") as url,
        running_server(url, lab=True) as server,
    ):
        env = {
            **os.environ,
            "LIGHTHOUSE_BASE_URL": server.url,
            "E2E_EMAIL": server.email,
            "E2E_PASSWORD": server.password,
        }
        result = subprocess.run(
            ["node", "scripts/lighthouse.mjs"], cwd=ROOT / "frontend", env=env, timeout=600
        )
        if result.returncode != 0:
            print(server.log_tail())
        return result.returncode


if __name__ == "__main__":
    sys.exit(main())
