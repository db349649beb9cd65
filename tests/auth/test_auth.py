"""Login, token rejection cases, refresh rotation and reuse detection, roles, rate limits."""

from __future__ import annotations

import time
from typing import Any

import httpx
import jwt
import pytest

from erp_core.context import AppContext


async def _login(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post("/api/auth/login", json={"email": email, "password": password})


async def test_login_returns_tokens_and_me_works(
    client: httpx.AsyncClient, admin: dict[str, Any]
) -> None:
    resp = await _login(client, admin["email"].upper(), admin["password"])
    assert resp.status_code == 200
    body = resp.json()
    assert body["success"] is True
    data = body["data"]
    assert data["token_type"] == "bearer" and data["expires_in"] == 900
    me = await client.get(
        "/api/auth/me", headers={"Authorization": f"Bearer {data['access_token']}"}
    )
    assert me.status_code == 200
    assert me.json()["data"]["email"] == admin["email"]
    assert me.json()["data"]["role"] == "admin"
    assert "password_hash" not in me.text


async def test_bad_password_is_401_in_spanish_and_audited(
    client: httpx.AsyncClient, admin: dict[str, Any]
) -> None:
    resp = await _login(client, admin["email"], "incorrecta")
    assert resp.status_code == 401
    body = resp.json()
    assert body == {
        "success": False,
        "error": "INVALID_CREDENTIALS",
        "detail": "Correo electrónico o contraseña incorrectos.",
    }
    ok = await _login(client, admin["email"], admin["password"])
    token = ok.json()["data"]["access_token"]
    audit = await client.get("/api/audit", headers={"Authorization": f"Bearer {token}"})
    actions = [row["action"] for row in audit.json()["data"]]
    assert "auth.login_failed" in actions and "auth.login" in actions
    failed = next(r for r in audit.json()["data"] if r["action"] == "auth.login_failed")
    assert failed["ip"] == "203.0.113.7" and failed["success"] is False
    assert "incorrecta" not in audit.text


def _forge(payload: dict[str, Any], key: str, alg: str = "HS256") -> str:
    return jwt.encode(payload, key, algorithm=alg)


@pytest.mark.parametrize(
    "case",
    ["missing", "garbage", "bad_signature", "expired", "none_alg", "refresh_type", "wrong_alg"],
)
async def test_token_rejections(
    case: str, client: httpx.AsyncClient, admin: dict[str, Any], ctx: AppContext
) -> None:
    key = ctx.settings.jwt_secret_key or ""
    now = int(time.time())
    claims = {
        "sub": str(admin["id"]),
        "role": "admin",
        "type": "access",
        "iat": now,
        "exp": now + 60,
    }
    headers: dict[str, str] = {}
    if case == "garbage":
        headers = {"Authorization": "Bearer not.a.token"}
    elif case == "bad_signature":
        headers = {"Authorization": "Bearer " + _forge(claims, "otra-clave-distinta-de-32-bytes!!")}
    elif case == "expired":
        headers = {"Authorization": "Bearer " + _forge({**claims, "exp": now - 5}, key)}
    elif case == "none_alg":
        unsigned = jwt.encode(claims, None, algorithm="none")  # type: ignore[arg-type]
        headers = {"Authorization": "Bearer " + unsigned}
    elif case == "refresh_type":
        headers = {"Authorization": "Bearer " + _forge({**claims, "type": "refresh"}, key)}
    elif case == "wrong_alg":
        headers = {"Authorization": "Bearer " + _forge(claims, key, "HS512")}
    resp = await client.get("/api/auth/me", headers=headers)
    assert resp.status_code == 401
    assert resp.json()["success"] is False
    assert resp.json()["error"] in ("UNAUTHORIZED", "INVALID_TOKEN")


async def test_disabled_user_token_is_rejected(
    client: httpx.AsyncClient, admin: dict[str, Any], operator: dict[str, Any]
) -> None:
    assert (await client.get("/api/auth/me", headers=operator["headers"])).status_code == 200
    resp = await client.put(
        f"/api/users/{operator['id']}", json={"disabled": True}, headers=admin["headers"]
    )
    assert resp.status_code == 200 and resp.json()["data"]["disabled"] is True
    assert (await client.get("/api/auth/me", headers=operator["headers"])).status_code == 401
    assert (await _login(client, operator["email"], operator["password"])).status_code == 401


async def test_refresh_rotates_and_reuse_revokes_family(
    client: httpx.AsyncClient, admin: dict[str, Any]
) -> None:
    first = (await _login(client, admin["email"], admin["password"])).json()["data"]
    second = await client.post("/api/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    second_data = second.json()["data"]
    assert second_data["refresh_token"] != first["refresh_token"]
    # The spent token comes back (stolen copy): 401, and the live token of the family dies too.
    reuse = await client.post("/api/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert reuse.status_code == 401
    after = await client.post(
        "/api/auth/refresh", json={"refresh_token": second_data["refresh_token"]}
    )
    assert after.status_code == 401
    # A separate login is a separate family and still works.
    other = (await _login(client, admin["email"], admin["password"])).json()["data"]
    assert (
        await client.post("/api/auth/refresh", json={"refresh_token": other["refresh_token"]})
    ).status_code == 200


async def test_logout_revokes_refresh_token(
    client: httpx.AsyncClient, admin: dict[str, Any]
) -> None:
    tokens = (await _login(client, admin["email"], admin["password"])).json()["data"]
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    out = await client.post(
        "/api/auth/logout", json={"refresh_token": tokens["refresh_token"]}, headers=headers
    )
    assert out.status_code == 200 and out.json()["data"] == {"logged_out": True}
    again = await client.post("/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert again.status_code == 401


async def test_login_rate_limit_per_account(
    client: httpx.AsyncClient, admin: dict[str, Any]
) -> None:
    for _ in range(5):
        assert (await _login(client, admin["email"], "mala")).status_code == 401
    blocked = await _login(client, admin["email"], admin["password"])
    assert blocked.status_code == 429
    assert blocked.json()["error"] == "RATE_LIMITED"
    assert int(blocked.headers["retry-after"]) > 0


async def test_login_rate_limit_per_ip(client: httpx.AsyncClient, ctx: AppContext) -> None:
    statuses = [
        (await _login(client, f"nadie{i}@example.com", "x")).status_code
        for i in range(ctx.settings.login_rate_limit_per_ip + 1)
    ]
    assert statuses[:-1] == [401] * ctx.settings.login_rate_limit_per_ip
    assert statuses[-1] == 429


async def test_role_matrix_for_user_management(
    client: httpx.AsyncClient,
    admin: dict[str, Any],
    operator: dict[str, Any],
    viewer: dict[str, Any],
) -> None:
    body = {"email": "nuevo@example.com", "name": "Nuevo", "role": "viewer"}
    for who in (operator, viewer):
        assert (await client.get("/api/users", headers=who["headers"])).status_code == 403
        resp = await client.post("/api/users", json=body, headers=who["headers"])
        assert resp.status_code == 403 and resp.json()["error"] == "FORBIDDEN"
        assert (await client.get("/api/audit", headers=who["headers"])).status_code == 403
    created = await client.post("/api/users", json=body, headers=admin["headers"])
    assert created.status_code == 201
    generated = created.json()["data"]["password"]
    assert generated and len(generated) >= 16
    assert (await _login(client, "nuevo@example.com", generated)).status_code == 200
    dup = await client.post("/api/users", json=body, headers=admin["headers"])
    assert dup.status_code == 409 and dup.json()["error"] == "USER_EXISTS"
    listing = await client.get("/api/users?per_page=2", headers=admin["headers"])
    assert listing.json()["meta"] == {"total": 4, "page": 1, "per_page": 2}


async def test_reset_password_returns_new_one_and_revokes_sessions(
    client: httpx.AsyncClient, admin: dict[str, Any], operator: dict[str, Any]
) -> None:
    tokens = (await _login(client, operator["email"], operator["password"])).json()["data"]
    resp = await client.post(
        f"/api/users/{operator['id']}/reset-password", headers=admin["headers"]
    )
    new_password = resp.json()["data"]["password"]
    assert (await _login(client, operator["email"], operator["password"])).status_code == 401
    assert (await _login(client, operator["email"], new_password)).status_code == 200
    assert (
        await client.post("/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    ).status_code == 401


async def test_admin_cannot_lock_themselves_out(
    client: httpx.AsyncClient, admin: dict[str, Any]
) -> None:
    resp = await client.put(
        f"/api/users/{admin['id']}", json={"role": "viewer"}, headers=admin["headers"]
    )
    assert resp.status_code == 409
