"""OdooHostManager over a real sshd on loopback, against the lab stand-ins."""

from __future__ import annotations

import json
import time
import zipfile
from pathlib import Path
from typing import Any

import asyncssh
import pytest

from erp_core.drivers.base import (
    DriverError,
    OdooConfigWriter,
    OdooDatabaseManager,
    PermanentDriverError,
    ServiceUser,
    TransientDriverError,
)
from erp_core.drivers.odoo_host import OdooHostManager
from erp_core.lab.host.sshd import LabSshd
from erp_core.lab.host.standins import State
from erp_core.provisioning.naming import suspended_database_name

from .conftest import VMID, OutputLog, target_for

PASSWORD = "S3creta-del-admin!"


async def _create(odoo: OdooHostManager, name: str = "acme", lang: str = "es_ES") -> None:
    await odoo.create_database(
        name, admin_login="dueno@acme.example", admin_password=PASSWORD, lang=lang
    )


def _odoo_argvs(state: State) -> list[list[str]]:
    return [i["argv"] for i in state.invocations() if i["tool"] == "odoo-bin"]


async def test_is_an_odoo_database_manager(manager: OdooHostManager) -> None:
    assert isinstance(manager, OdooDatabaseManager)


async def test_create_then_login_company_exists_and_list(
    manager: OdooHostManager, host_state: State, output: OutputLog
) -> None:
    assert await manager.list_databases() == []
    assert not await manager.database_exists("acme")
    await manager.create_database(
        "acme",
        admin_login="dueno@acme.example",
        admin_password=PASSWORD,
        lang="es_ES",
        country_code="DO",
    )
    assert await manager.database_exists("acme")
    assert await manager.list_databases() == ["acme"]
    assert await manager.verify_login("acme", "dueno@acme.example", PASSWORD) == 2
    with pytest.raises(PermanentDriverError) as denied:
        await manager.verify_login("acme", "dueno@acme.example", "otra-clave")
    assert denied.value.vendor_code == "login_failed"
    await manager.set_company_name("acme", "dueno@acme.example", PASSWORD, "Acme S.R.L.")

    meta = host_state.read("acme")
    assert meta["company_name"] == "Acme S.R.L." and meta["lang"] == "es_ES"
    assert meta["demo"] is False and meta["country"] == "DO"
    init = next(a for a in _odoo_argvs(host_state) if "-i" in a)
    assert init == [
        "-c", "/etc/odoo/odoo.conf", "-d", "acme", "-i", "base",
        "--load-language=es_ES", "--logfile=", "--stop-after-init",
    ]  # fmt: skip
    pct = [i["argv"] for i in host_state.invocations() if i["tool"] == "pct"]
    assert pct and all(a[:3] == ["exec", str(VMID), "--"] for a in pct)
    # Secrets travel on stdin only: never in an argv, never in the streamed output.
    assert PASSWORD not in json.dumps(host_state.invocations())
    assert PASSWORD not in output.text()
    assert "Modules loaded." in output.text()  # Odoo's log lines stream live
    with pytest.raises(PermanentDriverError) as again:
        await _create(manager)
    assert again.value.vendor_code == "odoo.service.db.DatabaseExists"


async def test_languages_listed_and_a_failed_create_leaves_no_database(
    manager: OdooHostManager, host_state: State, output: OutputLog
) -> None:
    """As real Odoo 19 does (tests/host_mode/test_real_odoo_host.py): a bad language exits
    255 after the database was created; the driver removes it and shows Odoo's reason."""
    languages = await manager.list_languages()
    assert "es_ES" in languages and "es" not in languages
    with pytest.raises(DriverError) as failed:
        await _create(manager, "badlang", lang="es")
    assert "install_lang" in failed.value.message
    assert not host_state.exists("badlang")
    drops = [a for a in _odoo_argvs(host_state) if a[:1] == ["db"] and "drop" in a]
    assert drops and drops[-1][-1] == "badlang"


async def test_config_param_as_the_admin(manager: OdooHostManager, host_state: State) -> None:
    """Custom domains set web.base.url through OdooConfigWriter, in host mode too."""
    assert isinstance(manager, OdooConfigWriter)
    await _create(manager)
    url = "https://erp.acme.example"
    await manager.set_config_param("acme", "dueno@acme.example", PASSWORD, "web.base.url", url)
    assert host_state.read("acme")["params"]["web.base.url"] == url
    with pytest.raises(PermanentDriverError):
        await manager.set_config_param("acme", "dueno@acme.example", "mala", "web.base.url", url)
    assert PASSWORD not in str(host_state.invocations())


async def test_service_user_and_password_change_through_the_shell(
    manager: OdooHostManager, host_state: State, output: OutputLog
) -> None:
    """Host mode creates the same service user as RPC mode (issues 13/17/18), and changes a
    user's password; secrets stay on stdin."""
    await _create(manager)
    user: ServiceUser = {
        "login": "erp-core-service@sajet.us",
        "password": "Clave-de-servicio-1",
        "name": "Jeturing Core (servicio)",
    }
    await manager.ensure_service_user("acme", "dueno@acme.example", PASSWORD, user)
    service_uid = await manager.verify_login("acme", user["login"], user["password"])
    assert service_uid > 2
    user["password"] = "Clave-de-servicio-2"
    await manager.ensure_service_user("acme", "dueno@acme.example", PASSWORD, user)
    assert await manager.verify_login("acme", user["login"], user["password"]) == service_uid
    await manager.set_user_password(
        "acme", user["login"], user["password"], "dueno@acme.example", "Nueva-clave-admin"
    )
    assert await manager.verify_login("acme", "dueno@acme.example", "Nueva-clave-admin") == 2
    with pytest.raises(PermanentDriverError):
        await manager.verify_login("acme", "dueno@acme.example", PASSWORD)
    with pytest.raises(PermanentDriverError) as denied:
        await manager.ensure_service_user("acme", "dueno@acme.example", PASSWORD, user)
    assert denied.value.vendor_code == "login_failed"
    seen = json.dumps(host_state.invocations()) + output.text()
    for secret in ("Clave-de-servicio-1", "Clave-de-servicio-2", "Nueva-clave-admin"):
        assert secret not in seen


async def test_duplicate_neutralize_and_drop(manager: OdooHostManager, host_state: State) -> None:
    await _create(manager)
    await manager.duplicate_database("acme", "acme-copia", neutralize=True)
    original, copy = host_state.read("acme"), host_state.read("acme-copia")
    assert copy["neutralized"] is True and original["neutralized"] is False
    assert copy["uuid"] != original["uuid"]
    assert await manager.verify_login("acme-copia", "dueno@acme.example", PASSWORD) == 2

    with pytest.raises(PermanentDriverError) as taken:
        await manager.duplicate_database("acme", "acme-copia")
    assert taken.value.vendor_code == "odoo.service.db.DatabaseExists"
    assert "exists, aborting" in taken.value.message

    await manager.neutralize_database("acme")
    assert host_state.read("acme")["neutralized"] is True

    assert await manager.drop_database("acme-copia") is True
    assert await manager.drop_database("acme-copia") is False  # idempotent
    assert await manager.list_databases() == ["acme"]


async def test_dump_and_restore(
    manager: OdooHostManager, host_state: State, tmp_path: Path
) -> None:
    await _create(manager)
    await manager.set_company_name("acme", "dueno@acme.example", PASSWORD, "Acme")
    (host_state.dbs / "acme" / "filestore" / "ab").mkdir(parents=True)
    (host_state.dbs / "acme" / "filestore" / "ab" / "abcdef").write_bytes(b"adjunto")
    backup = tmp_path / "acme.zip"
    with backup.open("wb") as handle:
        async with manager.backup_stream("acme") as chunks:
            async for chunk in chunks:
                handle.write(chunk)
    with zipfile.ZipFile(backup) as archive:
        names = set(archive.namelist())
        manifest = json.loads(archive.read("manifest.json"))
    assert {"dump.sql", "manifest.json", "filestore/ab/abcdef"} <= names
    assert manifest["db_name"] == "acme"

    await manager.restore_from_file("acme-restaurada", backup, neutralize=True)
    restored = host_state.read("acme-restaurada")
    assert restored["company_name"] == "Acme" and restored["neutralized"] is True
    stored = host_state.dbs / "acme-restaurada" / "filestore" / "ab" / "abcdef"
    assert stored.read_bytes() == b"adjunto"
    assert await manager.verify_login("acme-restaurada", "dueno@acme.example", PASSWORD) == 2
    # The uploaded file went through a temporary file that is removed afterwards.
    load = next(a for a in _odoo_argvs(host_state) if "load" in a)
    assert not Path(load[-1]).exists()

    with pytest.raises(PermanentDriverError, match="ya existe"):
        await manager.restore_from_file("acme", backup)
    with pytest.raises(PermanentDriverError, match="no existe"):
        async with manager.backup_stream("nadie"):
            pass


async def test_rename_to_the_suspended_name_and_back(
    manager: OdooHostManager, host_state: State
) -> None:
    """Suspension in host mode: ``odoo-bin db rename`` to ``__susp_<sub>`` (the argument
    check admits that one underscore-led form) and back, credentials unchanged."""
    await _create(manager)
    locked = suspended_database_name("acme")
    await manager.rename_database("acme", locked)
    assert await manager.list_databases() == [locked]
    assert not await manager.database_exists("acme")
    await manager.rename_database(locked, "acme")
    assert await manager.list_databases() == ["acme"]
    assert await manager.verify_login("acme", "dueno@acme.example", PASSWORD) == 2
    for bad in ("_acme", "__susp_", "__susp_a;id", "__tpl_a;id", "__other_acme"):
        with pytest.raises(PermanentDriverError):
            await manager.rename_database("acme", bad)


@pytest.mark.parametrize(
    "name", ["a;rm -rf /", "$(id)", "a`b`", "acme && reboot", "../etc", "x|y", "Acme", "a b"]
)
async def test_shell_metacharacters_are_refused_before_anything_runs(
    manager: OdooHostManager, host_state: State, tmp_path: Path, name: str
) -> None:
    calls: list[Any] = [
        manager.database_exists(name),
        manager.create_database(name, admin_login="a", admin_password="b", lang="es_ES"),
        manager.verify_login(name, "admin", "x"),
        manager.set_company_name(name, "admin", "x", "Acme"),
        manager.drop_database(name),
        manager.duplicate_database("acme", name),
        manager.duplicate_database(name, "acme"),
        manager.neutralize_database(name),
        manager.restore_from_file(name, tmp_path / "x.zip"),
    ]
    for call in calls:
        with pytest.raises(PermanentDriverError) as refused:
            await call
        assert refused.value.vendor_code == "invalid_argument"
        assert "no se ejecutó ningún comando" in refused.value.message
    with pytest.raises(PermanentDriverError):
        async with manager.backup_stream(name):
            pass
    assert host_state.invocations() == []
    assert manager._ssh._conn is None  # not even a connection was opened


async def test_other_arguments_are_validated(manager: OdooHostManager, host_state: State) -> None:
    for lang in ("es_ES; id", "$(id)", "es-ES"):
        with pytest.raises(PermanentDriverError, match="idioma"):
            await manager.create_database("acme", admin_login="a", admin_password="b", lang=lang)
    with pytest.raises(PermanentDriverError, match="país"):
        await manager.create_database(
            "acme", admin_login="a", admin_password="b", lang="es_ES", country_code="D;"
        )
    with pytest.raises(PermanentDriverError, match="usuario"):
        await manager.verify_login("acme", "admin\nimport os", "x")
    for options in ({"odoo_bin": "odoo-bin; id"}, {"odoo_conf": "$(id)"}, {"pct_vmid": 7}):
        with pytest.raises(PermanentDriverError):
            OdooHostManager(manager.target, **options)
    assert host_state.invocations() == []


async def test_hanging_command_times_out(make_manager: Any, host_state: State) -> None:
    odoo = make_manager(timeout=1.5, slow_timeout=1.5)
    await _create(make_manager(timeout=15, slow_timeout=60))
    host_state.set_fault("odoo-bin shell", sleep=30)
    started = time.monotonic()
    with pytest.raises(TransientDriverError) as timed_out:
        await odoo.verify_login("acme", "dueno@acme.example", PASSWORD)
    assert time.monotonic() - started < 5  # 1.5 s limit + connecting under load
    assert "se canceló" in timed_out.value.message
    host_state.set_fault("odoo-bin db dump", sleep=30)
    started = time.monotonic()
    with pytest.raises(TransientDriverError):
        async with odoo.backup_stream("acme") as chunks:
            async for _chunk in chunks:
                pass
    assert time.monotonic() - started < 8  # existence check + 1.5 s idle limit


async def test_failing_command_surfaces_stderr_in_spanish(
    manager: OdooHostManager, host_state: State, output: OutputLog
) -> None:
    await _create(manager)
    problem = 'psycopg2.errors.ObjectInUse: source database "acme" is being accessed by other users'
    host_state.set_fault("odoo-bin db duplicate", exit=1, stderr=f"Traceback\n  ...\n{problem}")
    with pytest.raises(DriverError) as failed:
        await manager.duplicate_database("acme", "acme-2")
    message = failed.value.message
    assert message.startswith("No se pudo duplicar la base de datos 'acme' como 'acme-2'")
    assert "código de salida 1" in message and problem in message
    assert problem in output.text()  # and it reached the job log as it happened
    with pytest.raises(DriverError, match='database "fantasma" does not exist') as missing:
        await manager.verify_login("fantasma", "admin", "admin")
    assert not isinstance(missing.value, TransientDriverError)


async def test_postgresql_out_of_connections_is_transient(
    manager: OdooHostManager, host_state: State
) -> None:
    """As in RPC mode: ``odoo-bin`` failing because PostgreSQL has no connection left is
    worth a retry (a missing database, above, is not)."""
    await _create(manager)
    problem = (
        'psycopg2.OperationalError: connection to server on socket "/run/postgresql/.s.PGSQL'
        '.5432" failed: FATAL:  sorry, too many clients already'
    )
    host_state.set_fault("odoo-bin db duplicate", exit=1, stderr=f"Traceback\n  ...\n{problem}")
    with pytest.raises(TransientDriverError, match="saturada"):
        await manager.duplicate_database("acme", "acme-2")


async def test_unknown_container_is_an_error(make_manager: Any, host_state: State) -> None:
    odoo = make_manager(pct_vmid=999)
    with pytest.raises(DriverError, match=r"999\.conf' does not exist"):
        await odoo.list_databases()
    health = await odoo.health()
    assert health["status"] == "down" and "999" in (health["detail"] or "")


async def test_health_and_version(manager: OdooHostManager) -> None:
    health = await manager.health()
    assert health["status"] == "ok" and health["version"] == "18.0"
    assert health["latency_ms"] > 0
    assert await manager.server_version() == "18.0"


async def test_host_key_mismatch_is_refused(
    make_manager: Any, lab_sshd: LabSshd, host_state: State
) -> None:
    impostor = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode()
    known = f"[{lab_sshd.host}]:{lab_sshd.port} {impostor}"
    odoo = make_manager(target_for(lab_sshd, known_hosts=known))
    with pytest.raises(PermanentDriverError) as refused:
        await odoo.list_databases()
    assert refused.value.vendor_code == "host_key_mismatch"
    assert "no coincide" in refused.value.message
    assert host_state.invocations() == []
    other_key = asyncssh.generate_private_key("ssh-ed25519").export_private_key().decode()
    stranger = make_manager(target_for(lab_sshd, private_key=other_key))
    with pytest.raises(PermanentDriverError) as denied:
        await stranger.list_databases()
    assert denied.value.vendor_code == "ssh_auth_failed"


async def test_unreachable_host_is_transient(make_manager: Any, lab_sshd: LabSshd) -> None:
    odoo = make_manager(target_for(lab_sshd, port=1), connect_timeout=2)
    with pytest.raises(TransientDriverError, match="conexión SSH"):
        await odoo.list_databases()


async def test_large_dump_is_streamed_in_chunks(
    manager: OdooHostManager, host_state: State, tmp_path: Path
) -> None:
    import os
    import tracemalloc

    await _create(manager)
    size = 12 * 1024 * 1024
    blob = host_state.dbs / "acme" / "filestore" / "big.bin"
    with blob.open("wb") as handle:
        for _ in range(size // (1 << 20)):
            handle.write(os.urandom(1 << 20))  # incompressible: the zip stays ~12 MiB
    target = tmp_path / "big.zip"
    sizes: list[int] = []
    tracemalloc.start()
    try:
        with target.open("wb") as handle:
            async with manager.backup_stream("acme", chunk_size=64 * 1024) as chunks:
                async for chunk in chunks:
                    sizes.append(len(chunk))
                    handle.write(chunk)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sum(sizes) == target.stat().st_size > size
    assert max(sizes) <= 64 * 1024 and len(sizes) > 150
    # Half the payload: holding the dump would cost all of it (and more for the zip). What is
    # in flight is bounded by the SSH channel's receive window (asyncssh: 2 MiB), filled up
    # when the machine is busy and the consumer is slower than sshd (4.5 MB seen under xdist).
    assert peak < size // 2, f"peak {peak} bytes while streaming {sum(sizes)}"
    with zipfile.ZipFile(target) as archive:
        assert archive.getinfo("filestore/big.bin").file_size == size


CREATE_SCRIPT = """#!/bin/sh
# The custom create script contract: <db> <lang> <country|->, JSON on stdin, exit codes.
payload=$(cat)
case "$1" in
  taken-*) echo "la base $1 ya existe" >&2; exit 3 ;;
  busy-*) echo "otro aprovisionamiento en curso" >&2; exit 75 ;;
  broken-*) echo "plantilla corrupta" >&2; exit 9 ;;
esac
printf '%s' "$payload" > "$LAB_ODOO_STATE_DIR/payload.json"
echo "creando $1 ($2, $3)"
exec odoo-bin -c /etc/odoo/odoo.conf -d "$1" -i base --without-demo=all \\
  --load-language="$2" --stop-after-init
"""


async def test_custom_create_script_contract(
    make_manager: Any, host_state: State, tmp_path: Path, output: OutputLog
) -> None:
    script = tmp_path / "create_tenant.sh"
    script.write_text(CREATE_SCRIPT)
    script.chmod(0o755)
    odoo = make_manager(pct_vmid=VMID, custom_create_script=str(script), on_output=output)
    await odoo.create_database(
        "scripted", admin_login="admin@x.example", admin_password=PASSWORD, lang="es_DO",
        country_code="DO",
    )  # fmt: skip
    payload = json.loads((host_state.root / "payload.json").read_text())
    assert payload == {
        "database": "scripted", "lang": "es_DO", "country_code": "DO",
        "admin_login": "admin@x.example", "admin_password": PASSWORD,
    }  # fmt: skip
    pct = [i["argv"] for i in host_state.invocations() if i["tool"] == "pct"]
    assert [str(script), "scripted", "es_DO", "DO"] in [a[-4:] for a in pct]
    assert "creando scripted (es_DO, DO)" in output.text()
    assert PASSWORD not in output.text()
    assert await odoo.verify_login("scripted", "admin@x.example", PASSWORD) == 2

    with pytest.raises(PermanentDriverError) as exists:
        await odoo.create_database("taken-db", admin_login="a", admin_password="b", lang="es_ES")
    assert exists.value.vendor_code == "odoo.service.db.DatabaseExists"
    with pytest.raises(TransientDriverError, match="otro aprovisionamiento en curso"):
        await odoo.create_database("busy-db", admin_login="a", admin_password="b", lang="es_ES")
    with pytest.raises(DriverError, match=r"código de salida 9\)\. Últimas líneas: plantilla"):
        await odoo.create_database("broken-db", admin_login="a", admin_password="b", lang="es_ES")


async def test_runs_as_the_odoo_user_without_pct(make_manager: Any, host_state: State) -> None:
    odoo = make_manager(run_as="root", odoo_bin="python3 " + _standin("odoo-bin"))
    await _create(odoo, "directo")
    assert await odoo.list_databases() == ["directo"]
    assert not [i for i in host_state.invocations() if i["tool"] == "pct"]


def _standin(name: str) -> str:
    from erp_core.lab.host.sshd import BIN_DIR

    return str(BIN_DIR / name)


async def test_crons_paused_and_resumed_through_the_shell(
    manager: OdooHostManager, host_state: State
) -> None:
    """Templates run no scheduled actions (issue 15); a clone switches the same ones back on."""
    await _create(manager)
    assert await manager.pause_crons("acme", "dueno@acme.example", PASSWORD) == [1, 2]
    assert await manager.resume_crons("acme", "dueno@acme.example", PASSWORD) == [1, 2]
    assert await manager.resume_crons("acme", "dueno@acme.example", PASSWORD) == []
    with pytest.raises(PermanentDriverError):
        await manager.pause_crons("acme", "dueno@acme.example", "mala")
    assert PASSWORD not in str(host_state.invocations())
