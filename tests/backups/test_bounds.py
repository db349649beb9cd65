"""Identifiers outside the database's integer range are answered, never a 500."""

from __future__ import annotations

from typing import Any

import httpx


async def test_out_of_range_ids_are_not_found(
    client: httpx.AsyncClient, admin: dict[str, Any]
) -> None:
    h = admin["headers"]
    for method, url in (
        ("GET", "/api/tenants/2147483648/backups"),
        ("POST", "/api/tenants/2147483648/backups"),
        ("GET", "/api/backups/9223372036854775808/download"),
        ("POST", "/api/backups/9223372036854775807/verify"),
        ("DELETE", "/api/backups/99999999999999999999999"),
    ):
        response = await client.request(method, url, headers=h)
        assert response.status_code in (404, 422), (url, response.status_code, response.text)
        assert response.json()["success"] is False

    body = {"backup_id": 2**70, "mode": "in_place"}
    response = await client.post("/api/tenants/1/restore", json=body, headers=h)
    assert response.status_code == 422 and response.json()["error"] == "VALIDATION_ERROR"
