"""The audit log says who tried and what happened, in Spanish."""

from __future__ import annotations

from typing import Any

import httpx


async def test_failed_login_is_attributed_to_the_email_tried(
    client: httpx.AsyncClient, admin: dict[str, Any]
) -> None:
    resp = await client.post(
        "/api/auth/login", json={"email": "Intruso@Example.com", "password": "mala"}
    )
    assert resp.status_code == 401
    resp = await client.get("/api/audit?action=auth.login_failed", headers=admin["headers"])
    entry = resp.json()["data"][0]
    assert entry["actor"] == "intruso@example.com"
    assert entry["success"] is False
    assert entry["action_label"] == "Inicio de sesión fallido"


async def test_every_action_has_a_spanish_label(
    client: httpx.AsyncClient, admin: dict[str, Any]
) -> None:
    await client.put(
        "/api/settings/billing_grace_days", json={"value": "9"}, headers=admin["headers"]
    )
    resp = await client.get("/api/audit", headers=admin["headers"])
    rows = resp.json()["data"]
    assert rows
    for row in rows:
        assert row["action_label"] and "." not in row["action_label"]
        assert "_" not in row["action_label"]
    assert {r["action_label"] for r in rows} >= {"Ajuste modificado"}
