"""Property-based fuzzing of every operation in /api/openapi.json against a real `serve --lab`
process: zero 5xx, zero responses that violate their documented schema (errors included: every
4XX/5XX is documented as the envelope), with an admin token and with none.

Bounded for CI: FUZZ_MAX_EXAMPLES examples per operation (default 8), fixed seed so a red run
is reproducible (FUZZ_SEED to explore other seeds).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from erp_core.lab.process import RunningServer, running_server, scratch_database

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
CHECKS = "not_a_server_error,response_schema_conformance,status_code_conformance"


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    with (
        scratch_database("erp_fuzz") as url,
        running_server(url, lab=True, LOGIN_RATE_LIMIT_PER_IP="100000") as running,
    ):
        yield running


CPYTHON_AST_RACE = "AST constructor recursion depth mismatch"


def _fuzz(
    server: RunningServer,
    headers: list[str],
    report: Path,
    *,
    max_examples: str | None = None,
    phases: str = "examples,fuzzing",
) -> subprocess.CompletedProcess[str]:
    args = [
        str(SCHEMATHESIS),
        "run",
        f"{server.url}/api/openapi.json",
        "--checks",
        CHECKS,
        "--max-examples",
        max_examples or os.environ.get("FUZZ_MAX_EXAMPLES", "8"),
        "--seed",
        os.environ.get("FUZZ_SEED", "20261124"),
        "--workers",
        "1",  # pytest-xdist already uses both cores; and one thread cannot meet the AST race below
        "--phases",
        phases,
        "--exclude-path-regex",
        "/events$",  # an endless event stream, tested elsewhere
        "--request-timeout",
        "30",
        "--no-color",
    ]
    for header in headers:
        args += ["-H", header]
    result = subprocess.run(args, capture_output=True, text=True, timeout=600)
    if CPYTHON_AST_RACE in result.stdout + result.stderr:
        # CPython 3.11's AST constructor can raise this SystemError when two threads parse at
        # once (python/cpython#106905); Hypothesis parses lambdas to describe its strategies,
        # so schemathesis' workers hit it now and then (two of them did; one should not). It is
        # the interpreter failing, not our API: run the same seeded fuzz again, once.
        result = subprocess.run(args, capture_output=True, text=True, timeout=600)
    report.write_text(result.stdout + result.stderr)
    return result


@pytest.mark.timeout(900)
def test_fuzz_with_admin_token(server: RunningServer, tmp_path: Path) -> None:
    token = server.login()
    result = _fuzz(server, [f"Authorization: Bearer {token}"], tmp_path / "admin.txt")
    assert result.returncode == 0, result.stdout[-6000:] + "\n" + server.log_tail(3000)


@pytest.mark.timeout(900)
def test_fuzz_without_token(server: RunningServer, tmp_path: Path) -> None:
    # Without a token every operation must answer a documented 401 before reading its input,
    # so the schema's examples plus two generated cases per operation say it; the deep input
    # fuzzing is the admin run's job (CI time, 2 cores).
    result = _fuzz(server, [], tmp_path / "anonymous.txt", max_examples="2")
    assert result.returncode == 0, result.stdout[-6000:] + "\n" + server.log_tail(3000)
