"""Shared fixtures: a private database per test run (real PostgreSQL), a fresh schema state
per test, the app over ASGI, and users with tokens.

TEST_DATABASE_URL points at a server where we may create databases (CI: the machine's
PostgreSQL); without it the embedded PostgreSQL under var/test-pg is used.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from erp_core.auth import service as auth_service
from erp_core.cache import MemoryCache
from erp_core.composition import build_queue
from erp_core.config import Settings
from erp_core.context import AppContext
from erp_core.db import Database, to_libpq_url
from erp_core.lab.process import backup_window_away_from
from erp_core.main import create_app
from erp_core.security import SecretBox, issue_access_token
from leakguard import LeakRecorder, no_secret_in_response, register_secret
from shared_parts import SKIP_PREFIX, in_ci, missing, present

ROOT = Path(__file__).resolve().parents[1]


# --- inputs from ../shared: never a silent skip, a failure in CI (see shared_parts.py) ------

# Fixtures that read the vendor's files: a test using one needs the folder as if marked (the
# billing `events` builder copies Stripe's published objects from fixtures3.json).
FIXTURES_NEEDING_SHARED = {"events": "vendor"}
_shared_misses: dict[str, int] = {}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "needs_shared(part): reads ../shared/<part> ('vendor' or 'odoo'); skipped loudly when "
        "absent, failed when CI=true",
    )


REAL_ODOO_FIXTURES = {"real_odoo", "real_host_odoo"}
"""Session fixtures that start a real Odoo. ``make test-py`` runs two pytest-xdist workers;
every test using one of these runs on the same worker (see :func:`pytest_xdist_make_scheduler`):
one Odoo per run, not one per worker, and the fixed database and template names those tests
use never meet a second Odoo on the same PostgreSQL."""


def uses_real_odoo(item: pytest.Item) -> bool:
    """By fixture, or by the contract suites' ``target`` parameter ("real"), which reaches
    ``real_odoo`` through ``request.getfixturevalue`` and so is not in ``fixturenames``."""
    if REAL_ODOO_FIXTURES & set(getattr(item, "fixturenames", ())):
        return True
    callspec = getattr(item, "callspec", None)
    return callspec is not None and callspec.params.get("target") == "real"


def real_odoo_by_name(nodeid: str) -> bool:
    """The same question from the test id alone: xdist's controller schedules by id and never
    sees fixtures. Workers check that every test using a real Odoo is named so (a test named
    so without one only joins the real-Odoo unit; see pytest_collection_modifyitems)."""
    path = nodeid.split("::", 1)[0]
    return "real_odoo" in path or nodeid.endswith("[real]")


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Each test is its own unit of work, except the real-Odoo ones: one unit, one worker.
    (xdist's ``--dist loadgroup`` would do this from marks, but it renames test ids through
    an attribute pytest 9 no longer reads, so its groups are silently ignored.)"""
    from xdist.scheduler import LoadScopeScheduling

    class RealOdooTogether(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            return "real-odoo" if real_odoo_by_name(nodeid) else nodeid

    return RealOdooTogether(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    misplaced = [i.nodeid for i in items if uses_real_odoo(i) and not real_odoo_by_name(i.nodeid)]
    if misplaced:
        raise pytest.UsageError(
            "real-Odoo tests must live under a 'real_odoo' path or take the contract's "
            f"'real' target, so xdist keeps them on one worker: {misplaced}"
        )
    for item in items:
        declared = {p for m in item.iter_markers("needs_shared") for p in m.args}
        for fixture, part in FIXTURES_NEEDING_SHARED.items():
            if fixture in getattr(item, "fixturenames", ()) and part not in declared:
                item.add_marker(pytest.mark.needs_shared(part))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Check before any fixture runs, so a missing folder costs no database or lab."""
    for marker in item.iter_markers("needs_shared"):
        for part in marker.args:
            if not present(part):
                missing(part)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if not (report.skipped or report.failed):
        return
    text = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    if SKIP_PREFIX in text:
        reason = text[text.index(SKIP_PREFIX) :].splitlines()[0].split(";")[0]
        _shared_misses[reason] = _shared_misses.get(reason, 0) + 1


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """End the run with a line nobody can miss when tests did not run for lack of ../shared."""
    if not _shared_misses:
        return
    total = sum(_shared_misses.values())
    outcome = "FAILED (CI=true)" if in_ci() else "SKIPPED"
    terminalreporter.write_sep(
        "!", f"{total} tests {outcome}: inputs from ../shared are missing", red=True, bold=True
    )
    for reason, count in sorted(_shared_misses.items()):
        terminalreporter.write_line(f"  {count:4d} × {reason}", red=True, bold=True)
    if not in_ci():
        terminalreporter.write_line(
            "  This run is partial; with CI=true these are failures.", red=True, bold=True
        )


@pytest.fixture(autouse=True)
def no_secret_in_logs() -> Iterator[None]:
    recorder = LeakRecorder()
    root = logging.getLogger()
    previous = root.level
    root.addHandler(recorder)
    root.setLevel(logging.DEBUG)
    yield
    root.removeHandler(recorder)
    root.setLevel(previous)
    assert recorder.found == [], f"secrets in log records: {recorder.found}"


def _server_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return to_libpq_url(url)
    from erp_core.db import start_embedded_postgres

    return start_embedded_postgres(ROOT / "var" / "test-pg")


def _with_db(url: str, name: str) -> str:
    base, _, query = url.partition("?")
    prefix = base.rsplit("/", 1)[0]
    return f"{prefix}/{name}" + (f"?{query}" if query else "")


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A throwaway database with every migration applied; dropped at the end of the run."""
    from erp_core.cli import run_migrations

    server = _server_url()
    name = f"erp_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = _with_db(server, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = _with_db(server, name)
    run_migrations(url)
    yield url
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
        )
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


_TABLES: list[str] = []


def truncate_all(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        if not _TABLES:
            rows = conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename NOT IN ('alembic_version')"
            ).fetchall()
            _TABLES.extend(r[0] for r in rows)
        conn.execute("TRUNCATE " + ", ".join(_TABLES) + " RESTART IDENTITY CASCADE")


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    window_start, window_end = backup_window_away_from(datetime.now(UTC))
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        redis_url=None,
        erp_core_var_dir=tmp_path / "var",
        jwt_secret_key="test-jwt-" + uuid.uuid4().hex,
        erp_core_secret_key="test-secret-" + uuid.uuid4().hex,
        erp_core_public_url="http://127.0.0.1:4443",
        erp_core_worker_in_process=False,
        job_retry_base_seconds=0.05,
        job_retry_max_seconds=0.2,
        backup_window_start=window_start,
        backup_window_end=window_end,
    )


@pytest.fixture
async def ctx(settings: Settings, database_url: str) -> AsyncIterator[AppContext]:
    """A clean database and an open context (queue included) for one test."""
    truncate_all(database_url)
    register_secret(settings.erp_core_secret_key, settings.jwt_secret_key)
    assert settings.erp_core_secret_key
    context = AppContext(
        settings=settings,
        db=Database(database_url, pool_size=5),
        cache=MemoryCache(),
        secret_box=SecretBox(settings.erp_core_secret_key),
        queue=build_queue(database_url),
    )
    async with context.queue.open_async():
        yield context
    await context.close()


@pytest.fixture
async def client(ctx: AppContext) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(ctx=ctx, spa_dir=ROOT / "var" / "no-spa")
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 5555))
    hooks = {"response": [no_secret_in_response]}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", event_hooks=hooks
    ) as http:
        yield http


class Users:
    """Creates users and hands out tokens for them."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    async def create(
        self, role: str, email: str | None = None, password: str = "Contraseña-segura-1"
    ) -> dict[str, Any]:
        email = email or f"{role}-{uuid.uuid4().hex[:6]}@example.com"
        register_secret(password)
        async with self.ctx.db.sessionmaker() as session:
            user, _ = await auth_service.create_user(session, email, role.title(), role, password)
            await session.commit()
        assert self.ctx.settings.jwt_secret_key
        token = issue_access_token(self.ctx.settings.jwt_secret_key, user.id, role, 900)
        return {
            "id": user.id,
            "email": email,
            "password": password,
            "token": token,
            "headers": {"Authorization": f"Bearer {token}"},
        }


@pytest.fixture
def users(ctx: AppContext) -> Users:
    return Users(ctx)


@pytest.fixture
async def admin(users: Users) -> dict[str, Any]:
    return await users.create("admin")


@pytest.fixture
async def operator(users: Users) -> dict[str, Any]:
    return await users.create("operator")


@pytest.fixture
async def viewer(users: Users) -> dict[str, Any]:
    return await users.create("viewer")
