"""A clone without ../shared must say loudly what it did not test, and CI must refuse it.

Runs pytest itself (a subprocess, as a developer or CI would) on tests that need the vendor
folder, with VENDOR_SPECS_DIR aimed at an empty folder.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# A marked module (3 tests) and a test marked through the `events` fixture.
TARGETS = [
    "tests/infrastructure/test_proxmox_contract.py",
    "tests/billing/test_webhooks.py::test_valid_event_is_stored_and_acknowledged",
]


def _run(empty: Path, ci: bool) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "PYTEST_ADDOPTS")}
    env["VENDOR_SPECS_DIR"] = str(empty)
    if ci:
        env["CI"] = "true"
    return subprocess.run(
        [sys.executable, "-m", "pytest", *TARGETS, "-p", "no:randomly"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_missing_vendor_folder_is_a_loud_skip_locally_and_a_failure_in_ci(
    tmp_path: Path,
) -> None:
    local = _run(tmp_path, ci=False)
    assert local.returncode == 0, local.stdout[-3000:]
    lines = local.stdout.splitlines()
    loud = [line for line in lines if "4 tests SKIPPED: inputs from ../shared are missing" in line]
    assert loud and loud[0].startswith("!!!"), local.stdout[-3000:]
    assert any(f"4 × needs ../shared/vendor: {tmp_path} is missing or empty" in x for x in lines)
    assert "4 skipped" in local.stdout

    ci = _run(tmp_path, ci=True)
    assert ci.returncode == 1, ci.stdout[-3000:]
    assert "4 tests FAILED (CI=true): inputs from ../shared are missing" in ci.stdout
    assert "4 error" in ci.stdout and "skipped" not in ci.stdout.splitlines()[-1]
