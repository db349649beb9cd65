"""E-mail over a real SMTP server on loopback (aiosmtpd): every message kind is Spanish text
+ HTML, sent once per event, survives an SMTP outage (the queue retries it), and carries no
secret."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time

from sqlalchemy import select

from erp_core.context import AppContext
from erp_core.lab.mail_sink import MailSinkServer
from erp_core.mail.messages import KINDS
from erp_core.mail.outbox import queue_mail
from erp_core.mail.sender import MailNotSent, send_outbox
from erp_core.models import Customer, MailOutbox
from erp_core.runner.queue import worker_options

PARAMS = {
    "company": "Acme",
    "url": "https://acme.sajet.us",
    "admin_login": "duena@acme.example",
    "link": "http://127.0.0.1:4443/registro/verificar?token=tok-123",
    "invoice": "LAB-0001",
    "subdomain": "acme",
    "portal_url": "http://127.0.0.1:4443/portal",
    "period_end": "31/12/2026",
    "retention_days": "30",
    "plan": "Pro",
    "notice": "El cambio es inmediato.",
}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _queue(ctx: AppContext, key: str, kind: str) -> int | None:
    async with ctx.db.sessionmaker() as session:
        customer = Customer(email="duena@acme.example", company_name="Acme")
        session.add(customer)
        await session.flush()
        outbox_id = await queue_mail(
            session, ctx, key=key, kind=kind, to=customer.email, params=PARAMS
        )
        await session.commit()
        return outbox_id


async def test_every_message_is_sent_once_per_event_and_holds_no_secret(
    ctx: AppContext, smtp_server: MailSinkServer
) -> None:
    for kind in KINDS:
        first = await _queue(ctx, f"{kind}:event-1", kind)
        again = await _queue(ctx, f"{kind}:event-1", kind)  # the same event handled twice
        assert first is not None and again is None
        assert await send_outbox(ctx, first) == "sent"
        assert await send_outbox(ctx, first) == "skipped"
    received = smtp_server.sink.all()
    assert sorted(m["headers"]["X-Erp-Mail-Kind"] for m in received) == sorted(KINDS)
    secrets = [
        ctx.settings.jwt_secret_key,
        ctx.settings.erp_core_secret_key,
        ctx.settings.stripe_secret_key,
        ctx.settings.stripe_webhook_secret,
    ]
    for message in received:
        assert message["to"] == ["duena@acme.example"]
        assert message["html"] and message["html"].startswith('<!doctype html><html lang="es">')
        assert "Jeturing" in message["text"] and message["subject"]
        for secret in secrets:
            assert secret and secret not in message["text"] and secret not in message["html"]
    async with ctx.db.sessionmaker() as session:
        stored = list(await session.scalars(select(MailOutbox)))
    # The link token is in the mail, never readable in the database.
    assert all("tok-123" not in row.body_enc for row in stored)
    assert {row.status for row in stored} == {"sent"}


async def test_an_smtp_outage_delays_mail_but_loses_none(
    ctx: AppContext, smtp_server: MailSinkServer
) -> None:
    ctx.settings.smtp_port = _closed_port()
    outbox_id = await _queue(ctx, "welcome:tenant:1", "welcome")
    assert outbox_id is not None
    try:
        await send_outbox(ctx, outbox_id)
        raise AssertionError("sending to a closed port must fail")
    except MailNotSent:
        pass
    async with ctx.db.sessionmaker() as session:
        row = await session.get(MailOutbox, outbox_id)
        assert row is not None and row.status == "queued" and row.attempts == 1
        assert row.last_error
    ctx.settings.smtp_port = smtp_server.port
    assert await send_outbox(ctx, outbox_id) == "sent"
    assert [m["subject"] for m in smtp_server.sink.all()] == ["Tu Odoo está listo"]


async def test_the_queue_retries_until_the_smtp_server_is_back(
    ctx: AppContext, smtp_server: MailSinkServer
) -> None:
    live = smtp_server.port
    ctx.settings.smtp_port = _closed_port()
    async for session in ctx.db.session():  # commits, then defers the send task
        customer = Customer(email="duena@acme.example", company_name="Acme")
        session.add(customer)
        await session.flush()
        await queue_mail(
            session, ctx, key="suspended:1", kind="suspended", to=customer.email, params=PARAMS
        )
    worker = asyncio.create_task(ctx.queue.run_worker_async(**worker_options(ctx)))
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            async with ctx.db.sessionmaker() as session:
                row = await session.scalar(select(MailOutbox))
            assert row is not None
            if row.attempts >= 1 and ctx.settings.smtp_port != live:
                ctx.settings.smtp_port = live  # the outage ends after a failed attempt
            if row.status == "sent":
                break
            await asyncio.sleep(0.2)
        assert row.status == "sent" and row.attempts >= 2
    finally:
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(worker, 10)
    assert [m["subject"] for m in smtp_server.sink.all()] == ["Su instancia ha sido suspendida"]
