"""Send one outbox message over SMTP (stdlib smtplib, in a thread) and record the outcome.

At-least-once: the row is locked while sending and marked `sent` in the same transaction, so
two workers never send it at once; a crash between the SMTP answer and the commit may send it
again, which is the lesser evil next to losing it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import smtplib
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid

from sqlalchemy import select

from erp_core.config import Settings
from erp_core.context import AppContext
from erp_core.models import MailOutbox

log = logging.getLogger(__name__)


class MailNotSent(Exception):
    """Raised so the queue retries the task with backoff."""


def _send_blocking(settings: Settings, message: EmailMessage) -> None:
    assert settings.smtp_host is not None
    with smtplib.SMTP(
        settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_seconds
    ) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password or "")
        smtp.send_message(message)


def build_message(settings: Settings, row: MailOutbox, text: str, html: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = row.to_addr
    message["Subject"] = row.subject
    message["Message-ID"] = make_msgid(idstring=f"outbox-{row.id}")
    message["X-Erp-Mail-Kind"] = row.kind
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


async def send_outbox(ctx: AppContext, outbox_id: int) -> str:
    """Send the message unless it was already sent; raise MailNotSent to be retried."""
    settings = ctx.settings
    async with ctx.db.sessionmaker() as session:
        row = await session.scalar(
            select(MailOutbox).where(MailOutbox.id == outbox_id).with_for_update(skip_locked=True)
        )
        if row is None or row.status == "sent":
            return "skipped"
        if not settings.smtp_host:
            row.last_error = "SMTP no está configurado"
            await session.commit()
            raise MailNotSent("SMTP is not configured")
        body = json.loads(ctx.secret_box.decrypt(row.body_enc))
        message = build_message(settings, row, body["text"], body["html"])
        row.attempts += 1
        try:
            await asyncio.to_thread(_send_blocking, settings, message)
        except (OSError, smtplib.SMTPException) as exc:
            row.last_error = f"{type(exc).__name__}: {exc}"[:500]
            await session.commit()
            log.warning("mail not sent", extra={"outbox_id": outbox_id, "kind": row.kind})
            raise MailNotSent(str(exc)) from exc
        row.status, row.sent_at, row.last_error = "sent", datetime.now(UTC), None
        await session.commit()
        log.info("mail sent", extra={"outbox_id": outbox_id, "kind": row.kind})
        return "sent"


async def due_for_retry(ctx: AppContext, older_than: timedelta) -> list[int]:
    """Queued messages whose task is gone (retries exhausted, crash before defer)."""
    cutoff = datetime.now(UTC) - older_than
    async with ctx.db.sessionmaker() as session:
        rows = await session.scalars(
            select(MailOutbox.id)
            .where(MailOutbox.status == "queued", MailOutbox.created_at < cutoff)
            .order_by(MailOutbox.id)
            .limit(200)
        )
        return [int(r) for r in rows]
