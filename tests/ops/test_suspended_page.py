"""The public suspension page says why (billing or manual) and whom to contact."""

from __future__ import annotations

from typing import Any

import httpx
import psycopg


async def test_reason_and_contact_from_settings(
    client: httpx.AsyncClient, admin: dict[str, Any], database_url: str
) -> None:
    with psycopg.connect(database_url) as conn:
        conn.execute("INSERT INTO customers (email, company_name) VALUES ('c@x.com', 'C')")
        for sub, reason in (("manual", "manual"), ("impago", "billing")):
            conn.execute(
                "INSERT INTO tenants (customer_id, subdomain, company_name, plan, status, "
                "suspension_reason, language, admin_login) VALUES ((SELECT min(id) FROM "
                "customers), %s, 'E', 'basic', 'suspended', %s, 'es_ES', 'admin')",
                (sub, reason),
            )
    h = admin["headers"]
    assert (
        await client.put(
            "/api/settings/support_email", json={"value": "soporte@sajet.us"}, headers=h
        )
    ).status_code == 200
    await client.put(
        "/api/settings/support_url", json={"value": "https://ayuda.sajet.us"}, headers=h
    )

    manual = await client.get("/web/login", headers={"Host": "manual.sajet.us"})
    assert manual.status_code == 503
    assert "suspendido temporalmente" in manual.text and "administrador" in manual.text
    assert "facturación" not in manual.text
    assert 'href="mailto:soporte@sajet.us"' in manual.text
    assert 'href="https://ayuda.sajet.us"' in manual.text

    billing = await client.get("/", headers={"Host": "impago.sajet.us"})
    assert "pago pendiente" in billing.text and "facturación" in billing.text

    unknown = await client.get("/", headers={"Host": "<b>x</b>.sajet.us"})
    assert unknown.status_code == 503 and "<b>x</b>" not in unknown.text
