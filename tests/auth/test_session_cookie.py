"""The browser's session survives a new tab through an httpOnly, SameSite=Strict cookie."""

from __future__ import annotations

from typing import Any

import httpx

from erp_core.context import AppContext
from erp_core.main import create_app

SPA = {"X-Requested-With": "jeturing-core"}


def _new_tab(ctx: AppContext, cookies: httpx.Cookies, scheme: str = "http") -> httpx.AsyncClient:
    """Another tab of the same browser: same cookie jar, nothing in memory."""
    transport = httpx.ASGITransport(app=create_app(ctx=ctx))
    return httpx.AsyncClient(transport=transport, base_url=f"{scheme}://t", cookies=cookies)


async def test_new_tab_restores_the_session_with_one_refresh_and_reuse_still_detected(
    ctx: AppContext, admin: dict[str, Any]
) -> None:
    async with _new_tab(ctx, httpx.Cookies()) as tab1:
        login = await tab1.post(
            "/api/auth/login", json={"email": admin["email"], "password": admin["password"]}
        )
        assert login.status_code == 200
        header = login.headers["set-cookie"].lower()
        for attribute in ("httponly", "samesite=strict", "path=/api/auth"):
            assert attribute in header, header
        assert "secure" not in header  # plain http (the lab): a Secure cookie would be lost
        spent = tab1.cookies.get("jc_refresh")
        assert spent == login.json()["data"]["refresh_token"]

        async with _new_tab(ctx, tab1.cookies) as tab2:
            # Without the SPA's header (a cross-site form post), the cookie is not honoured.
            assert (await tab2.post("/api/auth/refresh", json={})).status_code == 401
        async with _new_tab(ctx, tab1.cookies) as tab2:
            restored = await tab2.post("/api/auth/refresh", headers=SPA)
            assert restored.status_code == 200, restored.text
            access = restored.json()["data"]["access_token"]
            me = await tab2.get("/api/auth/me", headers={"Authorization": f"Bearer {access}"})
            assert me.json()["data"]["email"] == admin["email"]
            rotated = tab2.cookies.get("jc_refresh")
            assert rotated and rotated != spent

        # A copy of the spent cookie comes back: the family is revoked, the cookie cleared.
        async with _new_tab(ctx, httpx.Cookies()) as thief:
            stolen = {"Cookie": f"jc_refresh={spent}", **SPA}
            reuse = await thief.post("/api/auth/refresh", headers=stolen)
            assert reuse.status_code == 401
            assert "jc_refresh=" in reuse.headers["set-cookie"]
        again = await tab1.post("/api/auth/refresh", json={"refresh_token": rotated}, headers=SPA)
        assert again.status_code == 401


async def test_cookie_is_secure_over_https_and_logout_clears_it(
    ctx: AppContext, admin: dict[str, Any]
) -> None:
    async with _new_tab(ctx, httpx.Cookies(), scheme="https") as tab:
        login = await tab.post(
            "/api/auth/login", json={"email": admin["email"], "password": admin["password"]}
        )
        assert "secure" in login.headers["set-cookie"].lower()
        access = login.json()["data"]["access_token"]
        out = await tab.post(
            "/api/auth/logout", json={}, headers={"Authorization": f"Bearer {access}"}
        )
        assert out.status_code == 200
        assert 'jc_refresh=""' in out.headers["set-cookie"] or "max-age=0" in (
            out.headers["set-cookie"].lower()
        )
        # The server revoked the cookie's family: replaying the old value fails.
        stale = {"Cookie": f"jc_refresh={login.json()['data']['refresh_token']}", **SPA}
        async with _new_tab(ctx, httpx.Cookies(), scheme="https") as other:
            assert (await other.post("/api/auth/refresh", headers=stale)).status_code == 401
