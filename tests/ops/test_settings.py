"""Settings: DB overrides env, secrets encrypted at rest and masked, validation, rotation."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import psycopg
import pytest

from erp_core.context import AppContext
from erp_core.security import SecretBox
from erp_core.settings.service import rotate_secrets

SECRET = "sk_test_51Secretisimo9876"


async def test_secret_is_encrypted_masked_and_audited_without_value(
    client: httpx.AsyncClient,
    admin: dict[str, Any],
    database_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    resp = await client.put(
        "/api/settings/stripe_secret_key", json={"value": SECRET}, headers=admin["headers"]
    )
    assert resp.status_code == 200, resp.text
    data = resp.json()["data"]
    assert data["value"] == "••••9876" and data["is_secret"] and data["source"] == "database"
    with psycopg.connect(database_url) as conn:
        stored = conn.execute(
            "SELECT value FROM system_config WHERE key='stripe_secret_key'"
        ).fetchone()
        audit = conn.execute(
            "SELECT details::text FROM audit_log WHERE action='setting.update'"
        ).fetchone()
    assert stored and stored[0] != SECRET and SECRET not in stored[0]
    assert audit and SECRET not in audit[0]
    listing = await client.get("/api/settings", headers=admin["headers"])
    assert SECRET not in listing.text
    stripe = next(c for c in listing.json()["data"]["categories"] if c["category"] == "stripe")
    key = next(s for s in stripe["settings"] if s["key"] == "stripe_secret_key")
    assert key["value"] == "••••9876"
    assert SECRET not in caplog.text


async def test_db_value_overrides_environment_and_revert(
    client: httpx.AsyncClient, admin: dict[str, Any], ctx: AppContext
) -> None:
    h = admin["headers"]
    resp = await client.put("/api/settings/billing_grace_days", json={"value": "10"}, headers=h)
    assert resp.json()["data"]["value"] == "10" and ctx.settings.billing_grace_days == 10
    resp = await client.put("/api/settings/billing_grace_days", json={"value": None}, headers=h)
    assert resp.json()["data"]["source"] == "default" and ctx.settings.billing_grace_days == 7


@pytest.mark.parametrize(
    ("key", "value", "fragment"),
    [
        ("billing_grace_days", "muchos", "número entero"),
        ("billing_grace_days", "-3", "positivo"),
        ("cloudflare_api_base", "ftp://x", "URL"),
        ("erp_core_verify_public_url", "quizá", "true/false"),
        ("billing_currency", "dolares", "moneda"),
        ("odoo_default_language", "klingon", "código de idioma de Odoo"),
        ("odoo_default_country", "España", "ISO 3166"),
        ("erp_core_cache_ttl_seconds", "99999999999", "entre 0 y 86.400"),
        ("proxmox_ip_prefix", "33", "entre 1 y 32"),
        ("support_email", "soporte", "correo electrónico"),
    ],
)
async def test_invalid_values_are_422_in_spanish(
    client: httpx.AsyncClient, admin: dict[str, Any], key: str, value: str, fragment: str
) -> None:
    resp = await client.put(f"/api/settings/{key}", json={"value": value}, headers=admin["headers"])
    assert resp.status_code == 422
    assert fragment in resp.json()["detail"]


async def test_valid_codes_are_accepted_and_restore_default_removes_the_override(
    client: httpx.AsyncClient, admin: dict[str, Any], ctx: AppContext, database_url: str
) -> None:
    h = admin["headers"]
    resp = await client.put("/api/settings/odoo_default_country", json={"value": "mx"}, headers=h)
    assert resp.status_code == 200 and resp.json()["data"]["value"] == "MX"
    resp = await client.put(
        "/api/settings/odoo_default_language", json={"value": "es_MX"}, headers=h
    )
    assert resp.status_code == 200 and ctx.settings.odoo_default_language == "es_MX"
    resp = await client.put(
        "/api/settings/erp_core_cache_ttl_seconds", json={"value": "30"}, headers=h
    )
    assert resp.json()["data"]["maximum"] == 86400
    resp = await client.delete("/api/settings/odoo_default_language", headers=h)
    assert resp.status_code == 200
    assert resp.json()["data"]["source"] == "default" and resp.json()["data"]["value"] == "es_ES"
    assert ctx.settings.odoo_default_language == "es_ES"
    with psycopg.connect(database_url) as conn:
        keys = {r[0] for r in conn.execute("SELECT key FROM system_config")}
        actions = [r[0] for r in conn.execute("SELECT action FROM audit_log ORDER BY id")]
    assert "odoo_default_language" not in keys and "odoo_default_country" in keys
    assert actions[-1] == "setting.delete"
    assert (await client.delete("/api/settings/database_url", headers=h)).status_code == 404


async def test_unknown_key_and_roles(
    client: httpx.AsyncClient,
    admin: dict[str, Any],
    operator: dict[str, Any],
    viewer: dict[str, Any],
) -> None:
    resp = await client.put(
        "/api/settings/database_url", json={"value": "x"}, headers=admin["headers"]
    )
    assert resp.status_code == 404 and resp.json()["error"] == "SETTING_NOT_FOUND"
    for who in (operator, viewer):
        resp = await client.put(
            "/api/settings/billing_grace_days", json={"value": "3"}, headers=who["headers"]
        )
        assert resp.status_code == 403
    assert (await client.get("/api/settings", headers=viewer["headers"])).status_code == 200


async def test_rotation_keeps_every_value_readable(
    ctx: AppContext, client: httpx.AsyncClient, admin: dict[str, Any]
) -> None:
    await client.put(
        "/api/settings/cloudflare_api_token",
        json={"value": "cf-token-123456"},
        headers=admin["headers"],
    )
    server = {"name": "rot", "url": "http://127.0.0.1:9", "master_password": "maestra-secreta-1"}
    assert (
        await client.post("/api/tenants/servers", json=server, headers=admin["headers"])
    ).status_code == 201
    old, new = ctx.secret_box, SecretBox("otra-clave-nueva")
    async with ctx.db.sessionmaker() as session:
        assert await rotate_secrets(session, old, new) == 2
        await session.commit()
    async with ctx.db.sessionmaker() as session:
        from sqlalchemy import select

        from erp_core.models import OdooServer, SystemConfig

        row = await session.get(SystemConfig, "cloudflare_api_token")
        assert row and new.decrypt(row.value or "") == "cf-token-123456"
        srv = await session.scalar(select(OdooServer).where(OdooServer.name == "rot"))
        assert srv and new.decrypt(srv.master_password_enc) == "maestra-secreta-1"
        with pytest.raises(ValueError):
            old.decrypt(srv.master_password_enc)


async def test_connection_test_reports_unconfigured_cloudflare(
    client: httpx.AsyncClient, admin: dict[str, Any]
) -> None:
    resp = await client.post("/api/settings/test/cloudflare", headers=admin["headers"])
    assert resp.status_code == 200
    data = resp.json()["data"]
    assert data["ok"] is False and "Cloudflare" in data["checks"][0]["message"]
    assert (
        await client.post("/api/settings/test/gmail", headers=admin["headers"])
    ).status_code == 422


async def test_odoo_current(client: httpx.AsyncClient, viewer: dict[str, Any]) -> None:
    data = (await client.get("/api/settings/odoo/current", headers=viewer["headers"])).json()[
        "data"
    ]
    assert data["dbfilter"] == "^%d$" and data["base_domain"] == "sajet.us"
    assert data["servers"] == [] and data["default_language"] == "es_ES"
