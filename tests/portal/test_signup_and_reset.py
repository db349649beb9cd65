"""Sign-up and password reset never reveal whether an e-mail is registered, are rate-limited
per IP and per e-mail, and their links work once."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select
from tests.portal.portal_helpers import lab_price, link_token

from erp_core.context import AppContext
from erp_core.lab import StripeLabHandle
from erp_core.lab.mail_sink import MailSinkServer
from erp_core.mail.sender import send_outbox
from erp_core.models import MailOutbox, User

PASSWORD = "Clave-de-prueba-larga-7"


def _signup(email: str, subdomain: str = "acme") -> dict[str, str]:
    return {
        "company_name": "Acme",
        "email": email,
        "password": PASSWORD,
        "subdomain": subdomain,
        "plan": "basic",
    }


async def _sellable(client: httpx.AsyncClient, admin: dict[str, Any], lab: StripeLabHandle) -> None:
    price = await lab_price(lab, 2900, "basic")
    mapped = await client.put(
        "/api/billing/plans/basic",
        json={"stripe_price_monthly_id": price},
        headers=admin["headers"],
    )
    assert mapped.status_code == 200


async def _deliver(ctx: AppContext) -> None:
    """Run the send task for every queued message (what the worker does after commit)."""
    async with ctx.db.sessionmaker() as session:
        ids = list(
            await session.scalars(select(MailOutbox.id).where(MailOutbox.status == "queued"))
        )
    for outbox_id in ids:
        await send_outbox(ctx, outbox_id)


async def test_signup_answers_the_same_for_known_and_unknown_emails(
    ctx: AppContext,
    client: httpx.AsyncClient,
    admin: dict[str, Any],
    stripe_lab: StripeLabHandle,
    smtp_server: MailSinkServer,
) -> None:
    await _sellable(client, admin, stripe_lab)
    first = await client.post("/api/portal/signup", json=_signup("nuevo@acme.example"))
    known = await client.post("/api/portal/signup", json=_signup("nuevo@acme.example", "otra"))
    staff = await client.post("/api/portal/signup", json=_signup(admin["email"], "tercera"))
    assert first.status_code == known.status_code == staff.status_code == 202
    assert first.json() == known.json() == staff.json()
    async with ctx.db.sessionmaker() as session:
        count = await session.scalar(
            select(func.count(User.id)).where(func.lower(User.email) == "nuevo@acme.example")
        )
        staff_user = await session.scalar(select(User).where(User.email == admin["email"]))
    assert count == 1 and staff_user is not None and staff_user.role == "admin"
    await _deliver(ctx)
    mails = smtp_server.sink.messages("nuevo@acme.example")
    # Unverified and signing up again: a fresh link (the first one stops working).
    assert [m["subject"] for m in mails] == ["Confirme su correo electrónico"] * 2
    assert smtp_server.sink.messages(admin["email"]) == []
    stale = await client.post("/api/portal/verify", json={"token": link_token(mails[1])})
    assert stale.status_code == 400 and stale.json()["error"] == "INVALID_LINK"
    fresh = await client.post("/api/portal/verify", json={"token": link_token(mails[0])})
    assert fresh.status_code == 200, fresh.text


async def test_signup_is_rate_limited_per_email_and_per_ip(
    ctx: AppContext, client: httpx.AsyncClient, admin: dict[str, Any], stripe_lab: StripeLabHandle
) -> None:
    await _sellable(client, admin, stripe_lab)
    ctx.settings.portal_signup_rate_limit_per_email = 2
    ctx.settings.portal_signup_rate_limit_per_ip = 4
    same = [
        (await client.post("/api/portal/signup", json=_signup("x@acme.example"))).status_code
        for _ in range(3)
    ]
    assert same == [202, 202, 429]
    others = [
        (
            await client.post("/api/portal/signup", json=_signup(f"o{i}@acme.example", f"otra-{i}"))
        ).status_code
        for i in range(2)
    ]
    assert others == [202, 429]  # the IP's 5th attempt of the hour
    limited = await client.post("/api/portal/signup", json=_signup("z@acme.example", "zeta"))
    assert limited.status_code == 429 and limited.json()["error"] == "RATE_LIMITED"
    assert limited.headers["retry-after"] == "3600"


async def test_password_reset_reveals_nothing_and_links_work_once(
    ctx: AppContext,
    client: httpx.AsyncClient,
    admin: dict[str, Any],
    stripe_lab: StripeLabHandle,
    smtp_server: MailSinkServer,
) -> None:
    await _sellable(client, admin, stripe_lab)
    email = "cliente@acme.example"
    await client.post("/api/portal/signup", json=_signup(email))
    known = await client.post("/api/portal/password-reset", json={"email": email})
    unknown = await client.post("/api/portal/password-reset", json={"email": "nadie@acme.example"})
    staff = await client.post("/api/portal/password-reset", json={"email": admin["email"]})
    assert known.status_code == unknown.status_code == staff.status_code == 202
    assert known.json() == unknown.json() == staff.json()
    await _deliver(ctx)
    [reset] = [m for m in smtp_server.sink.messages(email) if "Restablecer" in m["subject"]]
    assert smtp_server.sink.messages("nadie@acme.example") == []
    assert smtp_server.sink.messages(admin["email"]) == []  # staff reset their way, not here
    token = link_token(reset)
    new_password = "Otra-clave-distinta-42"
    done = await client.post(
        "/api/portal/password-reset/confirm", json={"token": token, "password": new_password}
    )
    assert done.status_code == 200 and done.json()["data"] == {"reset": True}
    reuse = await client.post(
        "/api/portal/password-reset/confirm", json={"token": token, "password": new_password}
    )
    assert reuse.status_code == 400 and reuse.json()["error"] == "INVALID_LINK"
    old = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    new = await client.post("/api/auth/login", json={"email": email, "password": new_password})
    assert old.status_code == 401 and new.status_code == 200
    ctx.settings.portal_reset_rate_limit_per_email = 1
    again = await client.post("/api/portal/password-reset", json={"email": email})
    assert again.status_code == 429
