"""The Odoo emulator speaks Odoo's shapes; faults are settable over HTTP."""

from __future__ import annotations

import base64
import io
import zipfile
from typing import Any

import httpx

from erp_core.lab import LabStack


async def _rpc(
    http: httpx.AsyncClient, lab: LabStack, service: str, method: str, *args: Any
) -> Any:
    payload = {
        "jsonrpc": "2.0",
        "method": "call",
        "params": {"service": service, "method": method, "args": list(args)},
        "id": 7,
    }
    response = await http.post(f"{lab.odoo.url}/jsonrpc", json=payload)
    return response


async def test_access_denied_has_odoo_shape(http: httpx.AsyncClient, lab: LabStack) -> None:
    response = await _rpc(http, lab, "db", "drop", "wrong", "acme")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == 7 and "result" not in body
    assert body["error"]["code"] == 200
    assert body["error"]["message"] == "Odoo Server Error"
    assert body["error"]["data"]["name"] == "odoo.exceptions.AccessDenied"


async def test_create_login_and_company(
    http: httpx.AsyncClient, lab: LabStack, master_password: str
) -> None:
    created = await _rpc(
        http,
        lab,
        "db",
        "create_database",
        master_password,
        "acme",
        False,
        "es_ES",
        "pw-1",
        "boss",
        "do",
    )
    assert created.json()["result"] is True
    assert (await _rpc(http, lab, "db", "list")).json()["result"] == ["acme"]
    uid = (await _rpc(http, lab, "common", "login", "acme", "boss", "pw-1")).json()["result"]
    assert uid == 2
    bad = (await _rpc(http, lab, "common", "login", "acme", "boss", "nope")).json()["result"]
    assert bad is False
    company = await _rpc(
        http,
        lab,
        "object",
        "execute_kw",
        "acme",
        uid,
        "pw-1",
        "res.company",
        "read",
        [[1]],
        {"fields": ["name"]},
    )
    assert company.json()["result"] == [{"id": 1, "name": "My Company"}]
    users = await _rpc(
        http,
        lab,
        "object",
        "execute_kw",
        "acme",
        uid,
        "pw-1",
        "res.users",
        "search_read",
        [[["login", "=", "boss"]]],
    )
    assert users.json()["result"] == [{"id": 2, "login": "boss"}]


async def test_rpc_dump_and_restore_round_trip(
    http: httpx.AsyncClient, lab: LabStack, master_password: str
) -> None:
    lab.odoo_state.add_database("src", company_name="Fuente")
    dump = (await _rpc(http, lab, "db", "dump", master_password, "src", "zip")).json()["result"]
    assert "dump.sql" in zipfile.ZipFile(io.BytesIO(base64.b64decode(dump))).namelist()
    restored = await _rpc(http, lab, "db", "restore", master_password, "dst", dump, True)
    assert restored.json()["result"] is True
    assert lab.odoo_state.get("dst").company_name == "Fuente"
    again = await _rpc(http, lab, "db", "restore", master_password, "dst", dump, True)
    assert again.json()["error"]["data"]["name"] == "odoo.service.db.DatabaseExists"


async def test_faults_over_http(http: httpx.AsyncClient, lab: LabStack) -> None:
    fault = {"operation": "db.server_version", "fail_times": 2, "status": 503}
    assert (await http.post(f"{lab.odoo.url}/_lab/faults", json=fault)).status_code == 200
    statuses = [(await _rpc(http, lab, "db", "server_version")).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    state = (await http.get(f"{lab.odoo.url}/_lab/state")).json()
    assert state["calls"]["db.server_version"] == 3
    await http.post(f"{lab.odoo.url}/_lab/faults", json=[{**fault, "fail_times": -1}])
    assert (await _rpc(http, lab, "db", "server_version")).status_code == 503
    assert (await http.delete(f"{lab.odoo.url}/_lab/faults")).json()["faults"] == {}
    assert (await _rpc(http, lab, "db", "server_version")).status_code == 200
    bad = await http.post(f"{lab.odoo.url}/_lab/faults", json={"operation": "x", "oops": 1})
    assert bad.status_code == 400


async def test_reset_over_http(http: httpx.AsyncClient, lab: LabStack) -> None:
    lab.odoo_state.add_database("acme")
    await http.post(f"{lab.odoo.url}/_lab/reset")
    state = (await http.get(f"{lab.odoo.url}/_lab/state")).json()
    assert state["lab"]["databases"] == {}


async def test_login_page_by_host(http: httpx.AsyncClient, lab: LabStack) -> None:
    lab.odoo_state.add_database("acme", company_name="Acme <Caribe>")
    page = await http.get(f"{lab.odoo.url}/web/login", headers={"Host": "acme.sajet.us"})
    assert page.status_code == 200
    assert "Acme &lt;Caribe&gt;" in page.text and 'value="acme"' in page.text
    forwarded = await http.get(
        f"{lab.odoo.url}/web/login",
        headers={"Host": "127.0.0.1", "X-Forwarded-Host": "www.acme.sajet.us"},
    )
    assert forwarded.status_code == 200
    missing = await http.get(f"{lab.odoo.url}/web/login", headers={"Host": "acmex.sajet.us"})
    assert missing.status_code == 303  # Odoo sends the visitor to the database selector
    assert missing.headers["location"] == "/web/database/selector"


async def test_health_and_version_info(http: httpx.AsyncClient, lab: LabStack) -> None:
    assert (await http.get(f"{lab.odoo.url}/web/health")).json() == {"status": "pass"}
    info = await http.post(
        f"{lab.odoo.url}/web/webclient/version_info",
        json={"jsonrpc": "2.0", "method": "call", "params": {}, "id": 1},
    )
    result = info.json()["result"]
    assert result["server_serie"] == "17.0" and result["protocol_version"] == 1
    assert result["server_version_info"][:2] == [17, 0]


async def test_list_db_off_blocks_database_routes(
    http: httpx.AsyncClient, lab: LabStack, master_password: str
) -> None:
    await http.post(f"{lab.odoo.url}/_lab/config", json={"list_db": False})
    backup = await http.post(
        f"{lab.odoo.url}/web/database/backup",
        data={"master_pwd": master_password, "name": "x", "backup_format": "zip"},
    )
    # Odoo never answers 403 here: an HTML page (HTTP 200) that says "Access Denied".
    assert backup.status_code == 200 and "Access Denied" in backup.text
    create = await _rpc(http, lab, "db", "create_database", master_password, "x", False, "es_ES")
    assert create.json()["error"]["data"]["name"] == "odoo.exceptions.AccessDenied"
    assert (await _rpc(http, lab, "db", "db_exist", "x")).json()["result"] is False


async def test_restore_answers_like_odoo(
    http: httpx.AsyncClient, lab: LabStack, master_password: str
) -> None:
    lab.odoo_state.add_database("src")
    backup = await http.post(
        f"{lab.odoo.url}/web/database/backup",
        data={"master_pwd": master_password, "name": "src", "backup_format": "zip"},
        headers={"Host": "src.sajet.us"},
    )
    assert backup.headers["content-type"] == "application/octet-stream; charset=binary"
    files = {"backup_file": ("src.zip", backup.content, "application/zip")}
    ok = await http.post(
        f"{lab.odoo.url}/web/database/restore",
        data={"master_pwd": master_password, "name": "dst"},
        files=files,
    )
    assert ok.status_code == 303 and ok.headers["location"] == "/web/database/manager"
    denied = await http.post(
        f"{lab.odoo.url}/web/database/restore",
        data={"master_pwd": "nope", "name": "dst2"},
        files=files,
    )
    assert denied.status_code == 200 and "Database restore error: Access Denied" in denied.text
