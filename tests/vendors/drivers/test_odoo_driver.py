"""OdooRpcManager against the Odoo emulator: lifecycle, streaming, error mapping."""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

import pytest

from erp_core.drivers.base import (
    DriverError,
    OdooDatabaseManager,
    PermanentDriverError,
    TransientDriverError,
)
from erp_core.drivers.odoo import OdooRpcManager
from erp_core.lab import ALWAYS, LabServer, LabStack

ADMIN_PASSWORD = "Admin-cliente-41x"


async def _backup_bytes(odoo: OdooRpcManager, name: str, chunk_size: int = 65536) -> list[bytes]:
    async with odoo.backup_stream(name, chunk_size=chunk_size) as chunks:
        return [chunk async for chunk in chunks]


async def test_satisfies_the_domain_protocol(odoo: OdooRpcManager) -> None:
    assert isinstance(odoo, OdooDatabaseManager)


async def test_full_database_lifecycle(odoo: OdooRpcManager, lab: LabStack, tmp_path: Path) -> None:
    assert await odoo.server_version() == "17.0"
    await odoo.create_database(
        "acme",
        admin_login="admin@acme.do",
        admin_password=ADMIN_PASSWORD,
        lang="es_ES",
        country_code="do",
    )
    assert "acme" in await odoo.list_databases()
    assert await odoo.database_exists("acme")
    uid = await odoo.verify_login("acme", "admin@acme.do", ADMIN_PASSWORD)
    assert isinstance(uid, int) and uid > 1

    await odoo.set_company_name("acme", "admin@acme.do", ADMIN_PASSWORD, "Acme, S.R.L.")
    assert lab.odoo_state.get("acme").company_name == "Acme, S.R.L."

    chunks = await _backup_bytes(odoo, "acme")
    archive = zipfile.ZipFile(io.BytesIO(b"".join(chunks)))
    names = archive.namelist()
    assert "dump.sql" in names and "manifest.json" in names
    assert any(name.startswith("filestore/") for name in names)
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["db_name"] == "acme" and manifest["odoo_dump"] == "1"
    assert "base" in manifest["modules"]
    assert "Acme, S.R.L." in archive.read("dump.sql").decode()

    backup_file = tmp_path / "acme.zip"
    assert await odoo.backup_to_file("acme", backup_file) == backup_file.stat().st_size
    await odoo.restore_from_file("acme-copy", backup_file, copy=True)
    assert await odoo.database_exists("acme-copy")
    assert await odoo.verify_login("acme-copy", "admin@acme.do", ADMIN_PASSWORD) == uid
    restored = lab.odoo_state.get("acme-copy")
    assert restored.company_name == "Acme, S.R.L."
    assert restored.db_uuid != lab.odoo_state.get("acme").db_uuid
    assert not restored.neutralized

    await odoo.duplicate_database("acme", "acme-staging", neutralize=True)
    assert lab.odoo_state.get("acme-staging").neutralized

    assert await odoo.drop_database("acme") is True
    assert await odoo.drop_database("acme") is False
    assert "acme" not in await odoo.list_databases()
    assert not await odoo.database_exists("acme")


async def test_restore_moved_keeps_uuid_and_neutralize_flag_is_sent(
    odoo: OdooRpcManager, lab: LabStack, tmp_path: Path
) -> None:
    lab.odoo_state.add_database("origin", password=ADMIN_PASSWORD)
    path = tmp_path / "origin.zip"
    await odoo.backup_to_file("origin", path)
    await odoo.restore_from_file("moved", path, copy=False, neutralize=True)
    moved = lab.odoo_state.get("moved")
    assert moved.db_uuid == lab.odoo_state.get("origin").db_uuid
    assert moved.neutralized


async def test_backup_streams_in_chunks(odoo: OdooRpcManager, lab: LabStack) -> None:
    db = lab.odoo_state.add_database("big")
    db.filestore["ff/ffbig"] = os.urandom(600_000)  # incompressible: the zip stays large
    chunks = await _backup_bytes(odoo, "big", chunk_size=16_384)
    assert len(chunks) > 10
    assert max(len(chunk) for chunk in chunks) <= 16_384
    assert (
        zipfile.ZipFile(io.BytesIO(b"".join(chunks))).read("filestore/ff/ffbig")
        == (db.filestore["ff/ffbig"])
    )


async def test_wrong_master_password_is_a_spanish_permanent_error(lab: LabStack) -> None:
    wrong = "contraseña-equivocada-123"
    async with OdooRpcManager(lab.odoo.url, wrong, timeout=5) as odoo:
        with pytest.raises(PermanentDriverError) as caught:
            await odoo.create_database(
                "acme", admin_login="admin", admin_password=ADMIN_PASSWORD, lang="es_ES"
            )
    error = caught.value
    assert error.message == "Odoo rechazó la contraseña maestra al crear la base de datos 'acme'"
    assert error.vendor_code == "odoo.exceptions.AccessDenied"
    for text in (error.message, error.vendor_detail, str(error), repr(error)):
        assert wrong not in text and ADMIN_PASSWORD not in text
    assert not lab.odoo_state.exists("acme")


async def test_wrong_master_password_on_backup_raises_before_streaming(lab: LabStack) -> None:
    lab.odoo_state.add_database("acme")
    async with OdooRpcManager(lab.odoo.url, "nope-nope", timeout=5, base_domain="sajet.us") as odoo:
        with pytest.raises(PermanentDriverError, match="contraseña maestra"):
            await _backup_bytes(odoo, "acme")


async def test_backup_of_missing_database_fails(odoo: OdooRpcManager) -> None:
    with pytest.raises(DriverError, match="copia de seguridad de 'ghost'"):
        await _backup_bytes(odoo, "ghost")


async def test_restore_rejects_garbage_and_existing_names(
    odoo: OdooRpcManager, lab: LabStack, tmp_path: Path
) -> None:
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"this is not a zip")
    with pytest.raises(DriverError, match="restaurar la base de datos 'x1'"):
        await odoo.restore_from_file("x1", junk)
    assert not await odoo.database_exists("x1")

    lab.odoo_state.add_database("taken")
    good = tmp_path / "taken.zip"
    await odoo.backup_to_file("taken", good)
    with pytest.raises(DriverError):
        await odoo.restore_from_file("taken", good)


async def test_create_existing_database_is_permanent(odoo: OdooRpcManager, lab: LabStack) -> None:
    lab.odoo_state.add_database("acme")
    with pytest.raises(PermanentDriverError) as caught:
        await odoo.create_database("acme", admin_login="a", admin_password="b", lang="es_ES")
    assert caught.value.vendor_code == "odoo.service.db.DatabaseExists"


async def test_create_that_silently_fails_is_caught_by_verify_login(
    odoo: OdooRpcManager, lab: LabStack
) -> None:
    lab.faults.set("db.create_database.init", fail_times=1)
    await odoo.create_database(
        "broken", admin_login="admin", admin_password=ADMIN_PASSWORD, lang="es_ES"
    )
    assert await odoo.database_exists("broken")
    with pytest.raises(PermanentDriverError) as caught:
        await odoo.verify_login("broken", "admin", ADMIN_PASSWORD)
    assert ADMIN_PASSWORD not in str(caught.value) + caught.value.vendor_detail
    assert not await odoo.login_page_ok("broken.sajet.us")


async def test_wrong_user_password(odoo: OdooRpcManager, lab: LabStack) -> None:
    lab.odoo_state.add_database("acme", login="admin", password=ADMIN_PASSWORD)
    with pytest.raises(PermanentDriverError, match="rechazó el inicio de sesión de 'admin'"):
        await odoo.verify_login("acme", "admin", "bad-password-xyz")
    with pytest.raises(PermanentDriverError):
        await odoo.set_company_name("acme", "admin", "bad-password-xyz", "Acme")
    assert lab.odoo_state.get("acme").company_name == "My Company"


@pytest.mark.parametrize("status", [503, 502, 429])
async def test_injected_http_errors_are_transient_then_recover(
    odoo: OdooRpcManager, lab: LabStack, status: int
) -> None:
    lab.faults.set("db.create_database", fail_times=1, status=status)
    with pytest.raises(TransientDriverError) as caught:
        await odoo.create_database("acme", admin_login="a", admin_password="pw-1", lang="es_ES")
    assert caught.value.status_code == status
    assert "crear la base de datos 'acme'" in caught.value.message
    await odoo.create_database("acme", admin_login="a", admin_password="pw-1", lang="es_ES")
    assert await odoo.database_exists("acme")


async def test_vendor_error_without_known_meaning_is_not_transient(
    odoo: OdooRpcManager, lab: LabStack
) -> None:
    lab.faults.set(
        "db.list", fail_times=ALWAYS, error_name="psycopg2.OperationalError", message="boom"
    )
    with pytest.raises(DriverError) as caught:
        await odoo.list_databases()
    assert not isinstance(caught.value, TransientDriverError)
    assert caught.value.vendor_code == "psycopg2.OperationalError"
    assert "boom" in caught.value.vendor_detail


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "psycopg2.OperationalError",
            'connection to server at "127.0.0.1", port 5432 failed: FATAL:  sorry, too many '
            "clients already",
        ),
        ("psycopg2.pool.PoolError", "The Connection Pool Is Full"),
        ("psycopg2.errors.SerializationFailure", "could not serialize access"),
    ],
)
async def test_postgresql_out_of_connections_is_transient(
    odoo: OdooRpcManager, lab: LabStack, name: str, message: str
) -> None:
    """What a real Odoo 19 answered when 20 creates at once met PostgreSQL's
    max_connections: the same call works a moment later, so the step retries."""
    lab.faults.set("db.list", fail_times=1, error_name=name, message=message)
    with pytest.raises(TransientDriverError) as caught:
        await odoo.list_databases()
    assert caught.value.vendor_code == name
    assert await odoo.list_databases() is not None


async def test_timeout_is_transient(lab: LabStack, master_password: str) -> None:
    lab.faults.set("db.list", latency_ms=1500)
    async with OdooRpcManager(lab.odoo.url, master_password, timeout=0.3) as odoo:
        with pytest.raises(TransientDriverError, match="no respondió a tiempo"):
            await odoo.list_databases()


async def test_slow_create_uses_the_slow_timeout(lab: LabStack, master_password: str) -> None:
    lab.odoo_state.create_delay_s = 0.6
    async with OdooRpcManager(lab.odoo.url, master_password, timeout=0.2, slow_timeout=5) as odoo:
        await odoo.create_database("slow", admin_login="a", admin_password="pw", lang="es_ES")
        assert await odoo.database_exists("slow")


async def test_unreachable_server_is_transient_and_unhealthy() -> None:
    server = LabServer(lambda scope, receive, send: None).start()
    url = server.url
    server.stop()
    async with OdooRpcManager(url, "irrelevant", timeout=1) as odoo:
        with pytest.raises(TransientDriverError, match="No se pudo conectar con Odoo"):
            await odoo.server_version()
        health = await odoo.health()
    assert health["status"] == "down" and health["version"] is None


async def test_list_db_disabled_blocks_management(odoo: OdooRpcManager, lab: LabStack) -> None:
    lab.odoo_state.add_database("acme")
    lab.odoo_state.list_db = False
    with pytest.raises(PermanentDriverError):
        await odoo.list_databases()
    with pytest.raises(PermanentDriverError, match="list_db"):
        await _backup_bytes(odoo, "acme")
    assert await odoo.database_exists("acme")  # db_exist stays public in Odoo
    health = await odoo.health()
    assert health["status"] == "down" and health["version"] == "17.0"
    assert "list_db" in str(health["detail"]) and "contraseña" not in str(health["detail"])


async def test_change_master_password(
    odoo: OdooRpcManager, lab: LabStack, master_password: str
) -> None:
    await odoo.change_master_password("Nueva-maestra-55")
    assert lab.odoo_state.master_password == "Nueva-maestra-55"
    await odoo.create_database("after", admin_login="a", admin_password="pw", lang="es_ES")
    async with OdooRpcManager(lab.odoo.url, master_password, timeout=5) as stale:
        with pytest.raises(PermanentDriverError, match="contraseña maestra"):
            await stale.drop_database("after")


async def test_health_reports_version_and_latency(odoo: OdooRpcManager) -> None:
    health = await odoo.health()
    assert health["status"] == "ok"
    assert health["version"] == "17.0"
    assert health["latency_ms"] >= 0


async def test_health_down_on_injected_failure(odoo: OdooRpcManager, lab: LabStack) -> None:
    lab.faults.set("web.health", fail_times=1, status=503)
    assert (await odoo.health())["status"] == "down"
    assert (await odoo.health())["status"] == "ok"


async def test_login_page_follows_the_host_header(odoo: OdooRpcManager, lab: LabStack) -> None:
    lab.odoo_state.add_database("acme", company_name="Acme Dominicana")
    assert await odoo.login_page_ok("acme.sajet.us")
    assert await odoo.login_page_ok("www.acme.sajet.us:443")
    assert not await odoo.login_page_ok("ghost.sajet.us")
