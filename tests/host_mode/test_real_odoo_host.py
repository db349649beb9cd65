"""Host mode against a REAL Odoo 19: the driver runs the real ``odoo-bin`` and ``psql`` over
the loopback sshd (``pct`` is the only stand-in left), on the same tree, role and
``odoo.conf`` layout as the RPC-mode suite (``odoo_real.running_host_odoo``).

One database is created (10–50 s on a loaded 2-core machine); backup, restore, duplicate,
rename and drop reuse it. ``pytest -s`` prints the timings docs/odoo-servers.md quotes."""

from __future__ import annotations

import time
import zipfile
from pathlib import Path

import pytest

from erp_core.drivers.base import (
    CompanyProfile,
    DriverError,
    PermanentDriverError,
    TransientDriverError,
)
from erp_core.lab.host.standins import State
from odoo_real import RealHostOdoo, RealOdoo, real_host_odoo  # noqa: F401

from .conftest import OutputLog

pytestmark = pytest.mark.timeout(900)
PASSWORD = "S3creta-del-admin!"
LOGIN = "dueno@acme.example"
DB = "hm-acme"


def _admin_lang(real: RealOdoo, db: str) -> str | None:
    rows = real.sql(
        db,
        "SELECT p.lang FROM res_users u JOIN res_partner p ON p.id = u.partner_id "
        "WHERE u.login = %s",
        LOGIN,
    )
    return str(rows[0][0]) if rows else None


async def test_host_mode_lifecycle_on_real_odoo(
    real_host_odoo: RealHostOdoo, tmp_path: Path
) -> None:
    host, real = real_host_odoo, real_host_odoo.odoo
    output = OutputLog()
    odoo = host.manager(on_output=output)
    timings: dict[str, float] = {}
    try:
        health = await odoo.health()
        assert health["status"] == "ok", health["detail"]
        assert str(health["version"]).startswith("19.0")

        # Create: base in Spanish, no demo data and no deprecated flag on the way.
        t0 = time.monotonic()
        await odoo.create_database(
            DB, admin_login=LOGIN, admin_password=PASSWORD, lang="es_ES", country_code="DO"
        )
        timings["create"] = time.monotonic() - t0
        log = output.text()
        assert "deprecated" not in log.lower(), log[-2000:]
        assert real.sql(DB, "SELECT count(*) FROM ir_module_module WHERE demo") == [(0,)]
        assert await odoo.list_databases() == [DB]
        assert await odoo.database_exists(DB)
        uid = await odoo.verify_login(DB, LOGIN, PASSWORD)
        assert uid == 2
        # What Odoo's create_database (RPC mode) sets too: admin e-mail, country + currency,
        # and the time zone of a country that has only one.
        assert real.sql(
            DB,
            "SELECT p.email, p.tz FROM res_users u JOIN res_partner p ON p.id = u.partner_id "
            "WHERE u.id = 2",
        ) == [(LOGIN, "America/Santo_Domingo")]
        assert {k: v for k, v in real.company(DB).items() if k != "name"} == {
            "email": LOGIN,
            "country": "DO",
            "currency": "DOP",
            "active": True,
        }
        with pytest.raises(PermanentDriverError) as denied:
            await odoo.verify_login(DB, LOGIN, "otra-clave")
        assert denied.value.vendor_code == "login_failed"

        # Personalise exactly as RPC mode does (the same profile → the same rows).
        profile: CompanyProfile = {
            "company_name": "Acme Ibérica S.L.",
            "email": LOGIN,
            "country_code": "ES",
            "lang": "es_ES",
            "base_url": f"https://{DB}.sajet.us",
        }
        t0 = time.monotonic()
        await odoo.personalize(DB, LOGIN, PASSWORD, profile)
        timings["personalize"] = time.monotonic() - t0
        assert real.company(DB) == {
            "name": "Acme Ibérica S.L.",
            "email": LOGIN,
            "country": "ES",
            "currency": "EUR",
            "active": True,
        }
        assert _admin_lang(real, DB) == "es_ES"
        assert real.param(DB, "web.base.url") == f"https://{DB}.sajet.us"
        assert real.param(DB, "web.base.url.freeze") == "True"
        # A custom primary domain (issue 17) sets web.base.url the same way as RPC mode.
        await odoo.set_config_param(DB, LOGIN, PASSWORD, "web.base.url", "https://erp.acme.example")
        assert real.param(DB, "web.base.url") == "https://erp.acme.example"
        # Template scheduled actions (issue 15): paused, then exactly those back on.
        active = "SELECT count(*) FROM ir_cron WHERE active"
        paused = await odoo.pause_crons(DB, LOGIN, PASSWORD)
        assert paused and real.sql(DB, active)[0][0] == 0
        assert sorted(await odoo.resume_crons(DB, LOGIN, PASSWORD)) == sorted(paused)
        assert real.sql(DB, active)[0][0] == len(paused)
        assert real.param(DB, "erp_core.paused_crons") is None

        # Backup: Odoo's own zip (dump.sql, manifest.json, filestore/) over the channel.
        archive = tmp_path / "hm-acme.zip"
        t0 = time.monotonic()
        async with odoo.backup_stream(DB) as chunks:
            with archive.open("wb") as handle:
                async for chunk in chunks:
                    handle.write(chunk)
        timings["backup"] = time.monotonic() - t0
        with zipfile.ZipFile(archive) as dump:
            names = dump.namelist()
        assert "dump.sql" in names and "manifest.json" in names
        assert any(n.startswith("filestore/") for n in names)

        # Restore (odoo-bin db load: always a copy): same company, same admin, new uuid.
        t0 = time.monotonic()
        await odoo.restore_from_file("hm-restored", archive)
        timings["restore"] = time.monotonic() - t0
        assert real.company("hm-restored")["name"] == "Acme Ibérica S.L."
        assert await odoo.verify_login("hm-restored", LOGIN, PASSWORD) == uid
        assert real.param("hm-restored", "database.uuid") != real.param(DB, "database.uuid")
        assert real.param("hm-restored", "web.base.url") == f"http://localhost:{real.port}"
        assert real.filestore("hm-restored").is_dir()
        with pytest.raises(PermanentDriverError):
            await odoo.restore_from_file("hm-restored", archive)  # never over a live one

        # Restore NOT as a copy (what an in-place restore asks for): db load still copies,
        # and Odoo reset web.base.url to http://localhost:<port> (frozen) and made a new
        # uuid/secret; the driver puts the backup's own values back.
        t0 = time.monotonic()
        await odoo.restore_from_file("hm-inplace", archive, copy=False)
        timings["restore_not_copy"] = time.monotonic() - t0
        for key in ("web.base.url", "database.uuid", "database.secret"):
            assert real.param("hm-inplace", key) == real.param(DB, key), key
        assert await odoo.verify_login("hm-inplace", LOGIN, PASSWORD) == uid
        assert await odoo.drop_database("hm-inplace") is True

        # Duplicate and rename: database and filestore follow.
        t0 = time.monotonic()
        await odoo.duplicate_database(DB, "hm-copy")
        timings["duplicate"] = time.monotonic() - t0
        assert await odoo.verify_login("hm-copy", LOGIN, PASSWORD) == uid
        with pytest.raises(PermanentDriverError) as exists:
            await odoo.duplicate_database(DB, "hm-copy")
        assert exists.value.vendor_code == "odoo.service.db.DatabaseExists"
        await odoo.rename_database("hm-copy", "hm-renamed")
        assert set(await odoo.list_databases()) == {DB, "hm-restored", "hm-renamed"}
        assert real.filestore("hm-renamed").is_dir() and not real.filestore("hm-copy").exists()

        # Drop: database and filestore gone; a second drop reports "already gone".
        t0 = time.monotonic()
        assert await odoo.drop_database(DB) is True
        timings["delete"] = time.monotonic() - t0
        assert DB not in real.databases() and not real.filestore(DB).exists()
        assert await odoo.drop_database(DB) is False
        for name in ("hm-restored", "hm-renamed"):
            assert await odoo.drop_database(name) is True
        assert await odoo.list_databases() == []
    finally:
        await odoo.aclose()
        print("host-mode real-odoo timings (s):", {k: round(v, 2) for k, v in timings.items()})

    # Secrets never on a command line: pct (the stand-in) saw every argv.
    argvs = [str(i["argv"]) for i in State(host.sshd.state_dir).invocations()]
    assert argvs and not any(PASSWORD in a or LOGIN in a for a in argvs)


async def test_languages_and_a_bad_language_on_real_odoo(real_host_odoo: RealHostOdoo) -> None:
    """Real ``odoo-bin -i base --load-language=es`` exits 255 *after* creating the database,
    and its reason went to odoo.conf's log file: the error said only "Running as user 'root'
    is a security risk." and the half-made database stayed (a retry then waited on it)."""
    output = OutputLog()
    odoo = real_host_odoo.manager(on_output=output)
    try:
        languages = await odoo.list_languages()  # what provisioning checks first
        assert {"es_ES", "es_419", "en_US"} <= set(languages)
        assert "es" not in languages and "xx_XX" not in languages

        with pytest.raises(DriverError) as failed:
            await odoo.create_database(
                "hm-bad-lang", admin_login=LOGIN, admin_password=PASSWORD, lang="es"
            )
        assert not isinstance(failed.value, TransientDriverError)
        assert "install_lang" in failed.value.message, failed.value.message
        assert "res_lang" in output.text()  # Odoo's log reached the job log
        assert not await odoo.database_exists("hm-bad-lang")
        assert "hm-bad-lang" not in real_host_odoo.odoo.databases()
    finally:
        await odoo.aclose()
