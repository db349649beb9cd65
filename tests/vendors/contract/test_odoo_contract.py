"""One contract for the Odoo driver, run against the lab emulator AND a real Odoo 19.

The emulator is only worth its speed while it behaves like Odoo: each test here runs twice,
and a difference is a failing test (fix the emulator in ``lab/odoo*.py``, not the test).
Real-Odoo databases cost 5–11 s each, so the tests share one tenant database (``acme``),
created on first use: on the lab it is recreated per test (the lab is reset after each).
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from erp_core.drivers.base import (
    DriverError,
    PermanentDriverError,
    ServiceUser,
    TransientDriverError,
)
from erp_core.drivers.odoo import OdooRpcManager
from erp_core.lab import LabStack
from erp_core.provisioning.naming import suspended_database_name
from erp_core.reconciliation.usage import read_rpc_usage
from odoo_real import RealOdoo

ADMIN = "admin@acme.example.com"
PASSWORD = "Clave-cliente-8841"
DOMAIN = "sajet.us"
ACME = "ct-acme"


@dataclass
class Target:
    """One Odoo server under contract, and how a test reads what it really stored."""

    kind: str
    url: str
    master_password: str
    lab: LabStack | None = None
    real: RealOdoo | None = None

    def manager(
        self, *, master: str | None = None, base_domain: str | None = DOMAIN
    ) -> OdooRpcManager:
        return OdooRpcManager(
            self.url,
            master or self.master_password,
            timeout=30,
            slow_timeout=120,
            base_domain=base_domain,
        )

    def params(self, db: str) -> dict[str, str]:
        """``ir_config_parameter`` of ``db`` as Odoo stored it (uuid, secret…)."""
        if self.real is not None:
            rows = self.real.sql(db, "SELECT key, value FROM ir_config_parameter")
            return {str(k): str(v) for k, v in rows}
        assert self.lab is not None
        state = self.lab.odoo_state.get(db)
        return {"database.uuid": state.db_uuid, "database.secret": state.db_secret}


@pytest.fixture(params=["lab", "real"])
def target(request: pytest.FixtureRequest, master_password: str) -> Target:
    if request.param == "lab":
        lab: LabStack = request.getfixturevalue("lab")
        return Target("lab", lab.odoo.url, master_password, lab=lab)
    real: RealOdoo = request.getfixturevalue("real_odoo")
    return Target("real", real.url, real.master_password, real=real)


@pytest.fixture
async def odoo(target: Target) -> AsyncIterator[OdooRpcManager]:
    manager = target.manager()
    yield manager
    await manager.aclose()


@pytest.fixture
async def acme(odoo: OdooRpcManager) -> str:
    """The shared tenant database (es_ES, Dominican Republic), created on first use."""
    if not await odoo.database_exists(ACME):
        await odoo.create_database(
            ACME, admin_login=ADMIN, admin_password=PASSWORD, lang="es_ES", country_code="DO"
        )
    return ACME


async def test_a_missing_database_is_an_error_that_does_not_retry(odoo: OdooRpcManager) -> None:
    """Odoo says "database does not exist" with the same class (OperationalError) as "too
    many clients already"; only the second is worth a retry (see drivers/odoo.py)."""
    with pytest.raises(DriverError) as caught:
        await odoo.verify_login("ct-no-such-db", ADMIN, PASSWORD)
    assert not isinstance(caught.value, TransientDriverError)


async def test_create_then_the_admin_logs_in(odoo: OdooRpcManager, acme: str) -> None:
    assert acme in await odoo.list_databases()
    assert await odoo.database_exists(acme)
    uid = await odoo.verify_login(acme, ADMIN, PASSWORD)
    assert isinstance(uid, int) and uid > 1
    with pytest.raises(PermanentDriverError, match="rechazó el inicio de sesión"):
        await odoo.verify_login(acme, ADMIN, "otra-clave-mala")
    assert await odoo.login_page_ok(f"{acme}.{DOMAIN}")
    await odoo.set_company_name(acme, ADMIN, PASSWORD, "Acme Dominicana, S.R.L.")


async def test_backup_is_a_zip_with_dump_manifest_and_filestore(
    odoo: OdooRpcManager, acme: str, tmp_path: Path
) -> None:
    path = tmp_path / "acme.zip"
    size = await odoo.backup_to_file(acme, path)
    assert size == path.stat().st_size > 0
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        manifest = json.loads(archive.read("manifest.json"))
    assert "dump.sql" in names
    assert any(name.startswith("filestore/") for name in names)
    assert manifest["db_name"] == acme
    assert "base" in manifest["modules"]


async def test_backup_through_an_ip_host_is_not_known(target: Target, acme: str) -> None:
    """dbfilter ``^%d$`` + the request's Host: without the tenant's hostname Odoo answers
    200 with a page "Database '…' is not known"."""
    async with target.manager(base_domain=None) as bare:
        with pytest.raises(DriverError) as caught:
            async with bare.backup_stream(acme) as chunks:
                async for _ in chunks:
                    pass
    assert "is not known" in caught.value.vendor_detail
    assert "copia de seguridad" in caught.value.message
    # The raw route: HTTP 200, an HTML page, never a 4xx.
    async with httpx.AsyncClient(timeout=60) as client:
        response = await client.post(
            f"{target.url}/web/database/backup",
            data={"master_pwd": target.master_password, "name": acme, "backup_format": "zip"},
        )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "is not known" in response.text


async def test_restore_as_copy_and_duplicate_get_a_new_uuid_and_secret(
    odoo: OdooRpcManager, target: Target, acme: str, tmp_path: Path
) -> None:
    path = tmp_path / "acme.zip"
    await odoo.backup_to_file(acme, path)
    original = target.params(acme)
    await odoo.restore_from_file("ct-copy", path, copy=True)
    await odoo.duplicate_database(acme, "ct-dup")
    try:
        for name in ("ct-copy", "ct-dup"):
            assert await odoo.database_exists(name)
            assert await odoo.verify_login(name, ADMIN, PASSWORD) > 1
            params = target.params(name)
            assert params["database.uuid"] != original["database.uuid"], name
            assert params["database.secret"] != original["database.secret"], name
    finally:
        assert await odoo.drop_database("ct-copy") is True
        assert await odoo.drop_database("ct-dup") is True
    assert await odoo.drop_database("ct-dup") is False
    assert not await odoo.database_exists("ct-dup")


async def test_restore_rejects_an_existing_name(
    odoo: OdooRpcManager, acme: str, tmp_path: Path
) -> None:
    path = tmp_path / "acme.zip"
    await odoo.backup_to_file(acme, path)
    with pytest.raises(DriverError, match="restaurar la base de datos"):
        await odoo.restore_from_file(acme, path)


async def test_login_page_of_an_unknown_host_redirects_to_the_selector(
    target: Target, acme: str
) -> None:
    async with httpx.AsyncClient(timeout=60) as client:
        response = await client.get(f"{target.url}/web/login", headers={"Host": f"ghost.{DOMAIN}"})
    assert response.status_code == 303
    assert response.headers["location"].endswith("/web/database/selector")
    async with target.manager() as odoo:
        assert not await odoo.login_page_ok(f"ghost.{DOMAIN}")


async def test_db_exist_sees_databases_odoo_does_not_list(odoo: OdooRpcManager) -> None:
    """``db_exist`` connects to the name: any database of the PostgreSQL cluster counts,
    even one Odoo does not list (another role's, ``postgres``)."""
    assert await odoo.database_exists("postgres")
    assert "postgres" not in await odoo.list_databases()
    assert not await odoo.database_exists("ct-never-created")


async def test_create_with_a_bad_language_answers_true_but_nobody_logs_in(
    odoo: OdooRpcManager,
) -> None:
    """Odoo logs the initialisation error and returns true: only a login tells."""
    try:
        await odoo.create_database(
            "ct-badlang", admin_login=ADMIN, admin_password=PASSWORD, lang="es"
        )
        assert await odoo.database_exists("ct-badlang")
        with pytest.raises(PermanentDriverError):
            await odoo.verify_login("ct-badlang", ADMIN, PASSWORD)
    finally:
        await odoo.drop_database("ct-badlang")


async def test_list_lang_offers_es_ES_and_not_es(odoo: OdooRpcManager) -> None:
    languages = await odoo.list_languages()
    assert "es_ES" in languages and "en_US" in languages
    assert "es" not in languages


async def test_wrong_master_password_is_refused_everywhere(target: Target, acme: str) -> None:
    async with target.manager(master="no-es-la-maestra-1") as wrong:
        with pytest.raises(PermanentDriverError, match="contraseña maestra"):
            await wrong.create_database(
                "ct-nope", admin_login=ADMIN, admin_password=PASSWORD, lang="es_ES"
            )
        with pytest.raises(PermanentDriverError, match="contraseña maestra"):
            async with wrong.backup_stream(acme) as chunks:
                async for _ in chunks:
                    pass
        health = await wrong.health()
    assert health["status"] == "down"
    assert health["detail"] is not None and "contraseña maestra" in health["detail"]
    async with target.manager() as odoo:
        assert not await odoo.database_exists("ct-nope")


async def test_health_is_ok_with_the_version(odoo: OdooRpcManager, target: Target) -> None:
    health = await odoo.health()
    assert health["status"] == "ok", health
    expected = "19.0" if target.kind == "real" else target.lab.odoo_state.version  # type: ignore[union-attr]
    assert health["version"] is not None and health["version"].startswith(expected)


async def test_jsonrpc_ignores_dbfilter(target: Target, acme: str) -> None:
    """``/jsonrpc`` reaches any database through any hostname: suspension cannot rely on
    routing alone."""
    async with httpx.AsyncClient(timeout=60) as client:
        response = await client.post(
            f"{target.url}/jsonrpc",
            headers={"Host": f"otro-tenant.{DOMAIN}", "X-Forwarded-Host": f"otro.{DOMAIN}"},
            json={
                "jsonrpc": "2.0",
                "method": "call",
                "params": {"service": "common", "method": "login", "args": [acme, ADMIN, PASSWORD]},
                "id": 1,
            },
        )
    uid = response.json()["result"]
    assert isinstance(uid, int) and uid > 1


async def test_create_with_an_unknown_country_leaves_admin_admin(odoo: OdooRpcManager) -> None:
    """Odoo fails after installing base and before writing the admin: the call answers
    true and the database is left open with admin/admin (why we validate first)."""
    try:
        await odoo.create_database(
            "ct-badcountry",
            admin_login=ADMIN,
            admin_password=PASSWORD,
            lang="es_ES",
            country_code="ZZ",
        )
        with pytest.raises(PermanentDriverError):
            await odoo.verify_login("ct-badcountry", ADMIN, PASSWORD)
        assert await odoo.verify_login("ct-badcountry", "admin", "admin") > 1
    finally:
        await odoo.drop_database("ct-badcountry")


async def test_rename_moves_the_database_and_its_logins_away_from_the_old_name(
    target: Target, odoo: OdooRpcManager, acme: str, tmp_path: Path
) -> None:
    """What suspension relies on: after ``db.rename`` to the reserved ``__susp_`` name the
    old name logs nobody in (``/jsonrpc`` included) and no tenant hostname selects the
    database; the database still backs up under its new name, and renaming back restores
    the same credentials. ``/jsonrpc`` naming the NEW name still logs in (it ignores
    dbfilter): that is why /jsonrpc must never be exposed publicly (docs/odoo-servers.md)."""
    locked = suspended_database_name(acme)
    try:
        await odoo.rename_database(acme, locked)
        listed = await odoo.list_databases()
        assert locked in listed and acme not in listed
        assert not await odoo.database_exists(acme)
        assert await odoo.database_exists(locked)
        with pytest.raises(DriverError):
            await odoo.verify_login(acme, ADMIN, PASSWORD)
        assert not await odoo.login_page_ok(f"{acme}.{DOMAIN}")
        if target.real is not None:  # Odoo moves the filestore with the database
            assert target.real.filestore(locked).is_dir()
            assert not target.real.filestore(acme).exists()
        path = tmp_path / "locked.zip"
        assert await odoo.backup_to_file(locked, path) > 0
        with zipfile.ZipFile(path) as archive:
            assert json.loads(archive.read("manifest.json"))["db_name"] == locked
        assert await odoo.verify_login(locked, ADMIN, PASSWORD) > 1
        with pytest.raises(DriverError):  # never over an existing database
            await odoo.rename_database(locked, "postgres")
    finally:
        if await odoo.database_exists(locked):
            await odoo.rename_database(locked, acme)
    assert not await odoo.database_exists(locked)
    assert await odoo.verify_login(acme, ADMIN, PASSWORD) > 1
    assert await odoo.login_page_ok(f"{acme}.{DOMAIN}")


async def test_clone_personalised_through_a_session_then_taken_over(
    odoo: OdooRpcManager, target: Target, acme: str
) -> None:
    """Issue 15's clone path: duplicate, personalise as the source's admin through a web
    session, hand the admin over (new login + password); the old credentials stop working."""
    clone, login, password = "ct-clone", "dueno@clone.example.com", "Clave-nueva-5512"
    await odoo.duplicate_database(acme, clone)
    try:
        await odoo.personalize(
            clone,
            ADMIN,
            PASSWORD,
            {
                "company_name": "Clon, S.R.L.",
                "email": login,
                "country_code": "DO",
                "lang": "es_ES",
                "base_url": f"https://{clone}.{DOMAIN}",
            },
        )
        uid = await odoo.take_over_admin(clone, ADMIN, PASSWORD, login, password)
        assert await odoo.verify_login(clone, login, password) == uid
        with pytest.raises(PermanentDriverError, match="rechazó el inicio de sesión"):
            await odoo.verify_login(clone, ADMIN, PASSWORD)
        company = await odoo.read_company(clone, login, password)
        assert company["name"] == "Clon, S.R.L." and company["email"] == login
        assert target.params(clone).get("web.base.url", f"https://{clone}.{DOMAIN}") == (
            f"https://{clone}.{DOMAIN}"
        )
        assert await odoo.verify_login(acme, ADMIN, PASSWORD) > 1  # the source is untouched
    finally:
        await odoo.drop_database(clone)


async def test_session_login_needs_the_host_of_its_database(target: Target, acme: str) -> None:
    """dbfilter ``^%d$`` applies to ``/web/session/authenticate``: a Host selecting another
    database (or none) is refused even with the right password."""
    async with httpx.AsyncClient(base_url=target.url, timeout=60) as http:
        answer = await http.post(
            "/web/session/authenticate",
            json={
                "jsonrpc": "2.0",
                "method": "call",
                "params": {"db": acme, "login": ADMIN, "password": PASSWORD},
                "id": 1,
            },
            headers={"Host": f"otro.{DOMAIN}", "X-Forwarded-Host": f"otro.{DOMAIN}"},
        )
    assert answer.status_code == 200
    assert "error" in answer.json()


def _rpc(params: dict[str, object]) -> dict[str, object]:
    return {"jsonrpc": "2.0", "method": "call", "params": params, "id": 1}


async def test_a_session_sent_with_another_hosts_request_is_logged_out(
    target: Target, acme: str
) -> None:
    """Odoo's trap behind the cookie-less driver client (drivers/odoo.py,
    ``cookieless_client``): a request that carries database A's session cookie under a Host
    that selects another database (or none) logs A's session out, so the next call with it
    answers "Session expired". A shared cookie jar did that to concurrent creates."""
    own = {"Host": f"{acme}.{DOMAIN}", "X-Forwarded-Host": f"{acme}.{DOMAIN}"}
    other = {"Host": f"otro.{DOMAIN}", "X-Forwarded-Host": f"otro.{DOMAIN}"}
    read = _rpc({"model": "res.users", "method": "search_count", "args": [[]], "kwargs": {}})
    async with httpx.AsyncClient(base_url=target.url, timeout=60) as http:
        login = await http.post(
            "/web/session/authenticate",
            json=_rpc({"db": acme, "login": ADMIN, "password": PASSWORD}),
            headers=own,
        )
        sid = login.cookies["session_id"]
        http.cookies.clear()
        cookie = {"Cookie": f"session_id={sid}"}
        before = await http.post(
            "/web/dataset/call_kw/res.users.search_count", json=read, headers=own | cookie
        )
        assert before.json().get("result", 0) >= 1
        await http.get("/web/login", headers=other | cookie)
        http.cookies.clear()
        after = await http.post(
            "/web/dataset/call_kw/res.users.search_count", json=read, headers=own | cookie
        )
    error = after.json().get("error") or {}
    assert error.get("data", {}).get("name") == "odoo.http.SessionExpiredException"


async def test_service_user_sets_passwords_and_is_not_counted(
    odoo: OdooRpcManager, acme: str
) -> None:
    """The calls the control plane's service user makes (issues 13/17/18) answer alike."""
    user: ServiceUser = {
        "login": f"erp-core-service@{DOMAIN}",
        "password": "Servicio-Contrato-1",
        "name": "Jeturing Core (servicio)",
    }
    await odoo.ensure_service_user(acme, ADMIN, PASSWORD, user)
    await odoo.ensure_service_user(acme, ADMIN, PASSWORD, user)  # idempotent: reset, no clash
    assert await odoo.verify_login(acme, user["login"], user["password"]) > 1
    mine = await read_rpc_usage(odoo, acme, user["login"], user["password"], [user["login"]])
    every = await read_rpc_usage(odoo, acme, ADMIN, PASSWORD)
    assert mine.active_users is not None and every.active_users is not None
    assert mine.active_users == every.active_users - 1 >= 1
    try:
        await odoo.set_user_password(acme, user["login"], user["password"], ADMIN, "Otra-Clave-1")
        assert await odoo.verify_login(acme, ADMIN, "Otra-Clave-1") > 1
        with pytest.raises(PermanentDriverError):
            await odoo.verify_login(acme, ADMIN, PASSWORD)
        with pytest.raises(PermanentDriverError, match="No existe el usuario"):
            await odoo.set_user_password(acme, user["login"], user["password"], "nadie@x.y", "z")
    finally:
        await odoo.set_user_password(acme, user["login"], user["password"], ADMIN, PASSWORD)
    assert await odoo.verify_login(acme, ADMIN, PASSWORD) > 1


async def _active_crons(odoo: OdooRpcManager, db: str) -> list[int]:
    found = await odoo._session_call(
        db, ADMIN, PASSWORD, "ir.cron", "search", [["active", "=", True]]
    )
    return sorted(int(i) for i in found)


async def test_crons_paused_in_a_template_come_back_in_its_clone(
    odoo: OdooRpcManager, acme: str
) -> None:
    """Issue 15: Odoo's cron thread visits every database of its role (dbfilter or not), so a
    template's scheduled actions are switched off at build; a clone switches exactly those
    back on and keeps no trace of the list; the template stays paused."""
    template, clone = "ct-tplcron", "ct-tplcron-clone"
    await odoo.duplicate_database(acme, template)
    try:
        paused = sorted(await odoo.pause_crons(template, ADMIN, PASSWORD))
        assert paused, "base ships active scheduled actions"
        assert await _active_crons(odoo, template) == []
        await odoo.duplicate_database(template, clone)
        assert sorted(await odoo.resume_crons(clone, ADMIN, PASSWORD)) == paused
        assert await _active_crons(odoo, clone) == paused
        assert await odoo.resume_crons(clone, ADMIN, PASSWORD) == []  # the list is gone
        assert await _active_crons(odoo, template) == []
    finally:
        await odoo.drop_database(clone)
        await odoo.drop_database(template)
