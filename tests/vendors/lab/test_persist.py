"""The lab's emulators keep their state across a restart (`make run` twice)."""

from __future__ import annotations

from pathlib import Path

import httpx

from erp_core.lab import start_lab_stack

TOKEN = "lab-token-persist-0123456789abcdef"


def _create_db(url: str, master: str, name: str) -> None:
    body = {
        "jsonrpc": "2.0",
        "method": "call",
        "id": 1,
        "params": {
            "service": "db",
            "method": "create_database",
            "args": [master, name, False, "es_ES", "clave-admin", "admin", "ES"],
        },
    }
    resp = httpx.post(f"{url}/jsonrpc", json=body, timeout=10)
    assert resp.status_code == 200 and resp.json().get("result") is True, resp.text


def _list(url: str) -> list[str]:
    body = {"jsonrpc": "2.0", "method": "call", "id": 2, "params": {
        "service": "db", "method": "list", "args": []}}  # fmt: skip
    result: list[str] = httpx.post(f"{url}/jsonrpc", json=body, timeout=10).json()["result"]
    return result


def test_databases_dns_and_tunnels_survive_a_restart(tmp_path: Path) -> None:
    first = start_lab_stack(
        master_password="maestra-uno", cloudflare_token=TOKEN, persist_dir=tmp_path
    )
    try:
        _create_db(first.odoo.url, "maestra-uno", "acme")
        first.odoo_state.get("acme").company_name = "Acme S.L."
        _create_db(first.odoo.url, "maestra-uno", "beta")  # a write snapshots everything
        tunnel = first.tunnel_ids[0]
        with first.cloudflare_state.lock:
            first.cloudflare_state.configurations[tunnel] = {
                "config": {"ingress": [{"hostname": "acme.sajet.us", "service": first.odoo.url}]}
            }
        _create_db(first.odoo.url, "maestra-uno", "gamma")
        old_url = first.odoo.url
    finally:
        first.stop()
    assert (tmp_path / "lab-state.json").is_file()

    second = start_lab_stack(
        master_password="maestra-dos", cloudflare_token=TOKEN, persist_dir=tmp_path
    )
    try:
        assert sorted(_list(second.odoo.url)) == ["acme", "beta", "gamma"]
        acme = second.odoo_state.get("acme")
        assert acme.company_name == "Acme S.L." and acme.lang == "es_ES"
        assert second.odoo_state.login("acme", "admin", "clave-admin")
        assert second.tunnel_ids == [tunnel]  # the same tunnel, so stored routes still apply
        rules = second.cloudflare_state.configurations[tunnel]["config"]["ingress"]
        assert rules[0]["service"] == second.odoo.url and second.odoo.url != old_url
    finally:
        second.stop()

    fresh = start_lab_stack(
        master_password="m", cloudflare_token=TOKEN, persist_dir=tmp_path / "otro"
    )
    try:
        assert _list(fresh.odoo.url) == []
    finally:
        fresh.stop()
