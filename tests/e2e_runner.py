"""Browser tests: `erp-core serve --lab` on a scratch database, Playwright (Debian's chromium)
against it, then everything stopped. Exit code is Playwright's. Used by `make test-e2e`.

Arguments go to `playwright test` unchanged, so one spec or one test runs alone:
`.venv/bin/python tests/e2e_runner.py e2e/portal.spec.ts` or `… -g "Portal del cliente"`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from erp_core.lab.process import running_server, scratch_database

ROOT = Path(__file__).resolve().parents[1]


def main(args: list[str]) -> int:
    with (
        scratch_database("erp_e2e") as url,
        running_server(url, lab=True, LOGIN_RATE_LIMIT_PER_IP="500") as server,
    ):
        env = {
            **os.environ,
            "E2E_BASE_URL": server.url,
            "E2E_EMAIL": server.email,
            "E2E_PASSWORD": server.password,
            "CI": "1",
        }
        result = subprocess.run(
            ["npx", "playwright", "test", "--reporter=line", *args],
            cwd=ROOT / "frontend",
            env=env,
            timeout=900,
        )
        if result.returncode != 0:
            print(server.log_tail())
        return result.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
