"""A real Odoo 19 for the tests, started from the tree at ``ODOO_SOURCE``.

The server runs in the shared-server configuration ``docs/odoo-servers.md`` prescribes
(own PostgreSQL role, ``dbfilter = ^%d$``, ``proxy_mode``, ``list_db``, a random master
password) on a free loopback port, with its data folder in a temporary directory. The tree
is read-only: compiled bytecode goes to a cache folder outside it. Odoo's Python
dependencies come from the venv ``make odoo-deps`` builds (``ODOO_PYTHON`` overrides).

When the tree or the venv is missing the tests FAIL, saying how to provide them: CI never
skips the real-Odoo suite silently.

Host mode (:func:`running_host_odoo`): the same tree and configuration, no HTTP server, and a
real OpenSSH server on loopback whose sessions run the REAL ``odoo-bin`` (the venv's python
and the tree's ``odoo-bin``, as ``odoo_bin`` of the server row) and the real ``psql``; only
``pct`` stays a stand-in (it hands its argv over to the command, as ``pct exec`` does).

Shared by several test folders (``tests/real_odoo``, ``tests/vendors``, ``tests/host_mode``):
a conftest imports what it needs, as with ``control_plane_lab``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from erp_core.drivers.odoo_host import OdooHostManager, SshTarget
from erp_core.lab.host.sshd import BIN_DIR as STANDIN_BIN
from erp_core.lab.host.sshd import SYSTEM_PATH, LabSshd, sshd_missing_reason, start_lab_sshd

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path.home() / ".cache" / "erp-core"


def odoo_source() -> Path:
    """The Odoo tree (holding ``19.0/`` and ``stub-addons/``); fails the test when absent."""
    source = Path(os.environ.get("ODOO_SOURCE") or ROOT.parent / "shared" / "odoo").resolve()
    if not (source / "19.0" / "odoo-bin").is_file():
        pytest.fail(
            f"No Odoo 19 tree at {source}: set ODOO_SOURCE to a folder holding 19.0/ "
            "(Odoo Community 19.0 with base, web, rpc) and stub-addons/, then run "
            "`make odoo-deps` (see docs/odoo-servers.md).",
            pytrace=False,
        )
    return source


def odoo_python(source: Path) -> Path:
    """The interpreter of the cached venv with Odoo's requirements (``make odoo-deps``)."""
    explicit = os.environ.get("ODOO_PYTHON")
    if explicit and Path(explicit).is_file():
        return Path(explicit)
    reqs = source / "19.0" / "requirements.txt"
    crc = subprocess.run(["cksum", str(reqs)], capture_output=True, text=True, check=True)
    venv = CACHE / f"odoo-venv-{crc.stdout.split()[0]}"
    if not (venv / ".ready").is_file():
        pytest.fail(
            f"Odoo's Python venv is missing ({venv}): run `make odoo-deps` (ODOO_SOURCE={source}).",
            pytrace=False,
        )
    return venv / "bin" / "python"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pg_server_url() -> str:
    """libpq URL of the test PostgreSQL (``TEST_DATABASE_URL`` or the embedded one)."""
    from erp_core.db import start_embedded_postgres, to_libpq_url

    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return to_libpq_url(url)
    return start_embedded_postgres(ROOT / "var" / "test-pg")


def _admin_url(server: str) -> str:
    parts = urlsplit(server)
    return parts._replace(path="/postgres").geturl()


@dataclass
class RealOdoo:
    """One running Odoo 19 server and what a test needs to reach it."""

    url: str
    master_password: str
    role: str
    pg_url: str
    source: Path
    python: Path
    data_dir: Path
    config: Path
    log_file: Path
    process: subprocess.Popen[bytes] | None = None
    options: dict[str, str] = field(default_factory=dict)

    @property
    def port(self) -> int:
        return int(urlsplit(self.url).port or 0)

    def filestore(self, db: str) -> Path:
        return self.data_dir / "filestore" / db

    def sql(self, db: str, query: str, *args: object) -> list[tuple[object, ...]]:
        """Read a tenant database directly (as the superuser): what Odoo really stored."""
        parts = urlsplit(self.pg_url)
        with psycopg.connect(parts._replace(path=f"/{db}").geturl(), autocommit=True) as conn:
            cur = conn.execute(query, args)  # type: ignore[arg-type]
            return list(cur.fetchall()) if cur.description else []

    def company(self, db: str) -> dict[str, Any]:
        """The main company as Odoo stored it: name, e-mail, country code, currency, active."""
        rows = self.sql(
            db,
            "SELECT c.name, p.email, co.code, cu.name, cu.active FROM res_company c "
            "JOIN res_partner p ON p.id = c.partner_id "
            "LEFT JOIN res_country co ON co.id = p.country_id "
            "JOIN res_currency cu ON cu.id = c.currency_id WHERE c.id = 1",
        )
        name, email, country, currency, active = rows[0]
        return {
            "name": name,
            "email": email,
            "country": country,
            "currency": currency,
            "active": active,
        }

    def param(self, db: str, key: str) -> str | None:
        """One ``ir.config_parameter`` value, or None when Odoo has no such key."""
        rows = self.sql(db, "SELECT value FROM ir_config_parameter WHERE key = %s", key)
        return str(rows[0][0]) if rows else None

    def databases(self) -> set[str]:
        """Databases owned by this server's role (what Odoo lists)."""
        with psycopg.connect(_admin_url(self.pg_url), autocommit=True) as conn:
            rows = conn.execute(
                "SELECT datname FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba "
                "WHERE r.rolname = %s",
                (self.role,),
            ).fetchall()
        return {str(row[0]) for row in rows}

    def log_text(self) -> str:
        try:
            return self.log_file.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def odoo_bin_command(self, *args: str) -> list[str]:
        return [
            str(self.python),
            str(self.source / "19.0" / "odoo-bin"),
            "-c",
            str(self.config),
            *args,
        ]


def odoo_env() -> dict[str, str]:
    """Environment for Odoo processes: bytecode cached outside the read-only tree."""
    env = dict(os.environ)
    env["PYTHONPYCACHEPREFIX"] = str(CACHE / "odoo-pycache")
    env.pop("PYTHONPATH", None)
    return env


def write_config(
    path: Path,
    *,
    source: Path,
    role: str,
    pg_url: str,
    master_password: str,
    data_dir: Path,
    port: int,
    log_file: Path,
    extra: dict[str, str] | None = None,
) -> None:
    # conninfo, not urlsplit: the embedded server's URL names a socket directory in ``?host=``
    # (no hostname), which Odoo accepts as ``db_host`` too; 127.0.0.1 would reach another server
    pg = conninfo_to_dict(pg_url)
    addons = [
        source / "19.0" / "odoo" / "addons",
        source / "19.0" / "addons",
        source / "stub-addons",
    ]
    lines = {
        "admin_passwd": master_password,
        "db_host": str(pg.get("host") or "127.0.0.1"),
        "db_port": str(pg.get("port") or 5432),
        "db_user": role,
        "dbfilter": "^%d$",
        "proxy_mode": "True",
        "list_db": "True",
        "addons_path": ",".join(str(a) for a in addons),
        "data_dir": str(data_dir),
        "http_interface": "127.0.0.1",
        "http_port": str(port),
        "workers": "0",
        "max_cron_threads": "0",
        # This PostgreSQL allows 100 connections; Odoo's default pool of 64 idle-kept
        # connections (one set per database it served) plus the control plane's pool under
        # 20 creates at once ran out of them ("too many clients already"). Size it as an
        # operator would (docs/odoo-servers.md, "Connections").
        "db_maxconn": "32",
        "logfile": str(log_file),
        "log_level": "warn",
        "log_handler": "odoo.addons.rpc.controllers.jsonrpc:ERROR",
        **(extra or {}),
    }
    path.write_text("[options]\n" + "".join(f"{k} = {v}\n" for k, v in lines.items()))


def create_role(pg_url: str, role: str) -> None:
    """Odoo refuses the ``postgres`` role: a LOGIN CREATEDB role of its own."""
    with psycopg.connect(_admin_url(pg_url), autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{role}" LOGIN CREATEDB')


def drop_role(pg_url: str, role: str) -> None:
    """Drop every database the role owns, then the role (test cleanup)."""
    with psycopg.connect(_admin_url(pg_url), autocommit=True) as conn:
        names = [
            str(r[0])
            for r in conn.execute(
                "SELECT datname FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba "
                "WHERE r.rolname = %s",
                (role,),
            ).fetchall()
        ]
        for name in names:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            )
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'DROP ROLE IF EXISTS "{role}"')


def wait_healthy(
    url: str, process: subprocess.Popen[bytes], log_file: Path, timeout: float = 60
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = log_file.read_text(errors="replace")[-3000:] if log_file.exists() else ""
            raise RuntimeError(f"Odoo exited with {process.returncode}:\n{log}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/web/health", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"Odoo did not answer /web/health within {timeout}s")


@contextlib.contextmanager
def running_odoo(extra: dict[str, str] | None = None, *, start: bool = True) -> Iterator[RealOdoo]:
    """Start a real Odoo 19 (or, with ``start=False``, only prepare role and config, for
    host mode where ``odoo-bin`` runs per command); everything is removed afterwards."""
    source = odoo_source()
    python = odoo_python(source)
    pg_url = pg_server_url()
    role = f"odoo_t{os.getpid()}_{secrets.token_hex(3)}"
    tmp = Path(tempfile.mkdtemp(prefix="real-odoo-"))
    port = free_port()
    odoo = RealOdoo(
        url=f"http://127.0.0.1:{port}",
        master_password=secrets.token_urlsafe(18),
        role=role,
        pg_url=pg_url,
        source=source,
        python=python,
        data_dir=tmp / "data",
        config=tmp / "odoo.conf",
        log_file=tmp / "odoo.log",
        options=dict(extra or {}),
    )
    odoo.data_dir.mkdir()
    write_config(
        odoo.config,
        source=source,
        role=role,
        pg_url=pg_url,
        master_password=odoo.master_password,
        data_dir=odoo.data_dir,
        port=port,
        log_file=odoo.log_file,
        extra=extra,
    )
    create_role(pg_url, role)
    try:
        if start:
            odoo.process = subprocess.Popen(
                odoo.odoo_bin_command(),
                env=odoo_env(),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            wait_healthy(odoo.url, odoo.process, odoo.log_file)
        yield odoo
    finally:
        if odoo.process is not None:
            odoo.process.terminate()
            try:
                odoo.process.wait(15)
            except subprocess.TimeoutExpired:
                odoo.process.kill()
                odoo.process.wait(5)
        drop_role(pg_url, role)
        shutil.rmtree(tmp, ignore_errors=True)


HOST_VMID = 105


@dataclass
class RealHostOdoo:
    """A real Odoo 19 reached in host mode: ``pct exec`` → real ``odoo-bin``/``psql``."""

    odoo: RealOdoo
    sshd: LabSshd
    vmid: int = HOST_VMID

    @property
    def odoo_bin(self) -> str:
        """What an operator would register as ``odoo_bin``: ``python /path/odoo-bin``."""
        return f"{self.odoo.python} {self.odoo.source / '19.0' / 'odoo-bin'}"

    def target(self) -> SshTarget:
        return SshTarget(
            host=self.sshd.host,
            port=self.sshd.port,
            user=self.sshd.user,
            private_key=self.sshd.client_private_key,
            known_hosts=self.sshd.known_hosts,
        )

    def manager(self, **options: Any) -> OdooHostManager:
        """A host-mode driver for this server (close it with ``aclose``)."""
        values: dict[str, Any] = {
            "odoo_bin": self.odoo_bin,
            "odoo_conf": str(self.odoo.config),
            "pct_vmid": self.vmid,
            "timeout": 120,
            "slow_timeout": 600,
        }
        values.update(options)
        return OdooHostManager(self.target(), **values)


@contextlib.contextmanager
def running_host_odoo() -> Iterator[RealHostOdoo]:
    """A real Odoo 19 behind a loopback sshd: databases are managed by ``odoo-bin`` per
    command over SSH, and the HTTP server of the same ``odoo.conf`` serves the tenants'
    login pages (provisioning's last check); everything is removed afterwards."""
    reason = sshd_missing_reason()
    if reason:
        pytest.fail(f"Host mode on real Odoo needs the lab sshd: {reason}.", pytrace=False)
    with (
        running_odoo() as odoo,
        tempfile.TemporaryDirectory(prefix="real-host-odoo-") as tmp,
    ):
        bin_dir = Path(tmp) / "bin"
        bin_dir.mkdir()
        (bin_dir / "pct").symlink_to(STANDIN_BIN / "pct")
        pg = conninfo_to_dict(odoo.pg_url)
        env = {
            "PATH": f"{bin_dir}:{SYSTEM_PATH}",
            "PGHOST": str(pg.get("host") or "127.0.0.1"),
            "PGPORT": str(pg.get("port") or 5432),
            "PGUSER": odoo.role,  # psql lists what Odoo's own role owns
            "PYTHONPYCACHEPREFIX": str(CACHE / "odoo-pycache"),  # the tree is read-only
        }
        sshd = start_lab_sshd(Path(tmp) / "sshd", env=env)
        sshd.add_container(HOST_VMID)
        try:
            yield RealHostOdoo(odoo=odoo, sshd=sshd)
        finally:
            sshd.stop()


@pytest.fixture(scope="session")
def real_host_odoo() -> Iterator[RealHostOdoo]:
    """The shared real Odoo 19 of the test session in host mode."""
    from leakguard import register_secret

    with running_host_odoo() as host:
        register_secret(host.odoo.master_password)
        yield host


@pytest.fixture(scope="session")
def real_odoo() -> Iterator[RealOdoo]:
    """The shared real Odoo 19 of the test session (RPC mode)."""
    from leakguard import register_secret

    with running_odoo() as odoo:
        register_secret(odoo.master_password)
        yield odoo


async def wait_job(
    client: httpx.AsyncClient, headers: dict[str, str], job_id: int, timeout: float = 180
) -> dict[str, Any]:
    """Poll a job until it ends; returns its body (steps and log included)."""
    deadline = time.monotonic() + timeout
    data: dict[str, Any] = {}
    while time.monotonic() < deadline:
        data = (await client.get(f"/api/jobs/{job_id}", headers=headers)).json()["data"]
        if data["status"] in ("succeeded", "failed", "cancelled"):
            return data
        await asyncio.sleep(0.25)
    raise AssertionError(f"job {job_id} still {data.get('status')}")
