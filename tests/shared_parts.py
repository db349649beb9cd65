"""Test inputs that live outside the repository, in the workspace's read-only `../shared`.

Vendor descriptions (Stripe fixtures, Cloudflare OpenAPI, Proxmox apidata.js) and the real
Odoo tree are read in place, never copied into the repository. A fresh clone without them
must not quietly pass fewer tests: a test that needs one declares it with
``@pytest.mark.needs_shared("vendor")`` (or ``"odoo"``); when the folder is missing the test
is skipped with a one-line reason and the run ends with a loud count (tests/conftest.py), and
with ``CI=true`` it fails instead, because CI must never report green on a partial run.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NoReturn

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = Path(os.environ.get("SHARED_DIR") or ROOT.parent / "shared")
# Every skip this module causes starts with this, so the summary can count them.
SKIP_PREFIX = "needs ../shared"


def part_path(part: str) -> Path:
    """Where `part` is looked for (an env variable overrides the `../shared` default)."""
    if part == "vendor":
        return Path(os.environ.get("VENDOR_SPECS_DIR") or SHARED_DIR / "vendor")
    if part == "odoo":
        # the same variable as the real-Odoo harness (tests/odoo_real.py) and the Makefile
        return Path(os.environ.get("ODOO_SOURCE") or SHARED_DIR / "odoo")
    raise ValueError(f"unknown shared part {part!r} (known: vendor, odoo)")


ENV_OVERRIDE = {"vendor": "VENDOR_SPECS_DIR", "odoo": "ODOO_SOURCE"}


def present(part: str) -> bool:
    """The folder exists and holds something (an empty mount counts as missing)."""
    path = part_path(part)
    return path.is_dir() and any(path.iterdir())


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def missing(part: str, path: Path | None = None) -> NoReturn:
    """Skip (or, in CI, fail) the current test because a shared input is absent."""
    where = path or part_path(part)
    reason = f"{SKIP_PREFIX}/{part}: {where} is missing or empty (set {ENV_OVERRIDE[part]})"
    if in_ci():
        pytest.fail(f"{reason}; CI=true requires every shared input", pytrace=False)
    pytest.skip(reason)


def require(part: str, path: Path | None = None) -> Path:
    """The path of a shared input (a file inside it, when given), or skip/fail as above."""
    target = path or part_path(part)
    if not target.exists():
        missing(part, target)
    return target
