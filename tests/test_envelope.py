"""Every error class answers in the seed's envelope with a fitting status and Spanish detail."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import APIRouter

from erp_core.context import AppContext
from erp_core.main import create_app


async def test_unknown_api_route_is_404_envelope(client: httpx.AsyncClient) -> None:
    resp = await client.get("/api/no-existe")
    assert resp.status_code == 404
    assert resp.json() == {
        "success": False,
        "error": "NOT_FOUND",
        "detail": "La ruta solicitada no existe.",
    }
    assert resp.headers["x-request-id"]


async def test_405_envelope(client: httpx.AsyncClient) -> None:
    resp = await client.delete("/api/auth/login")
    assert resp.status_code == 405
    assert resp.json()["error"] == "METHOD_NOT_ALLOWED"
    assert resp.json()["success"] is False


async def test_401_without_token(client: httpx.AsyncClient) -> None:
    resp = await client.get("/api/users")
    assert resp.status_code == 401
    assert resp.json()["error"] == "UNAUTHORIZED"
    assert resp.headers["www-authenticate"] == "Bearer"


async def test_422_names_fields_in_spanish(client: httpx.AsyncClient) -> None:
    resp = await client.post("/api/auth/login", json={"email": "no-es-correo"})
    assert resp.status_code == 422
    body = resp.json()
    assert body["error"] == "VALIDATION_ERROR"
    fields = {f["field"]: f["message"] for f in body["fields"]}
    assert set(fields) == {"email", "password"}
    assert fields["password"] == "Este campo es obligatorio."
    labels = {f["field"]: f["label"] for f in body["fields"]}
    assert labels == {"email": "Correo electrónico", "password": "Contraseña"}
    assert body["detail"] == "Revise estos campos: Correo electrónico, Contraseña."


async def test_malformed_json_is_422(client: httpx.AsyncClient) -> None:
    resp = await client.post(
        "/api/auth/login", content=b"{no json", headers={"content-type": "application/json"}
    )
    assert resp.status_code == 422
    assert resp.json()["error"] == "VALIDATION_ERROR"


async def test_mistyped_query_parameter_is_422(
    client: httpx.AsyncClient, admin: dict[str, Any]
) -> None:
    resp = await client.get("/api/users?page=abc", headers=admin["headers"])
    assert resp.status_code == 422
    assert resp.json()["fields"][0]["field"] == "page"
    resp = await client.get("/api/users?per_page=100000", headers=admin["headers"])
    assert resp.status_code == 422


async def test_unexpected_error_is_generic_500_without_trace(ctx: AppContext) -> None:
    app = create_app(ctx=ctx)
    router = APIRouter()

    @router.get("/api/boom")
    async def boom() -> None:
        raise RuntimeError("secreto interno: contraseña=abc")

    app.include_router(router)
    app.router.routes.insert(0, app.router.routes.pop())  # before the SPA catch-all
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        resp = await http.get("/api/boom")
    assert resp.status_code == 500
    body = resp.json()
    assert body["error"] == "INTERNAL_ERROR" and body["success"] is False
    assert "secreto" not in resp.text and "Traceback" not in resp.text
    assert resp.headers["x-request-id"]


async def test_health_is_public_and_fast(client: httpx.AsyncClient) -> None:
    resp = await client.get("/api/health")
    assert resp.status_code == 200
    data = resp.json()["data"]
    assert data["status"] == "ok" and data["database"] == "ok" and data["lab"] is False


async def test_security_headers_and_spa_fallback(client: httpx.AsyncClient) -> None:
    resp = await client.get("/tenants/12")
    assert resp.status_code == 200 and "text/html" in resp.headers["content-type"]
    assert resp.headers["x-frame-options"] == "DENY"
    assert resp.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in resp.headers["content-security-policy"]
    missing_asset = await client.get("/_app/immutable/missing.js")
    assert missing_asset.status_code == 404


async def test_cors_closed_by_default(client: httpx.AsyncClient) -> None:
    resp = await client.options(
        "/api/health",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert "access-control-allow-origin" not in resp.headers


async def test_tenant_hostname_gets_suspended_page(client: httpx.AsyncClient) -> None:
    resp = await client.get("/web/login", headers={"Host": "acme.sajet.us"})
    assert resp.status_code == 503
    assert "Servicio suspendido" in resp.text
    assert "acme.sajet.us" in resp.text


async def test_api_docs_work_offline(client: httpx.AsyncClient) -> None:
    """Swagger UI must not need a CDN: every asset the page names is ours and loads."""
    import re

    resp = await client.get("/api/docs")
    assert resp.status_code == 200
    urls = re.findall(r"""(?:src|href|url)\s*[:=]\s*['"]([^'"]+)['"]""", resp.text)
    assert len(urls) >= 3, urls
    for url in urls:
        assert url.startswith("/"), f"external asset on /api/docs: {url}"
        loaded = await client.get(url)
        assert loaded.status_code == 200, url
        assert len(loaded.content) > 100
    assert "cdn" not in resp.text.lower()
    assert (await client.get("/api/docs/assets/../../config.py")).status_code == 404
