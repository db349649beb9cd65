"""Queue an e-mail in the caller's transaction; a queue task sends it after commit.

Never sending from the request means a slow or down SMTP server cannot slow or fail the
request, and a rolled-back request sends nothing. The idempotency key makes an event that is
handled twice (a webhook redelivered, a step re-run) queue one message only.
"""

from __future__ import annotations

import json

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from erp_core.context import AppContext
from erp_core.db import on_commit
from erp_core.mail.messages import render
from erp_core.models import MailOutbox

SEND_TASK = "erp.mail.send"
SWEEP_TASK = "erp.mail.sweep"
MAIL_QUEUE = "mail"


async def queue_mail(
    session: AsyncSession,
    ctx: AppContext,
    *,
    key: str,
    kind: str,
    to: str,
    params: dict[str, str],
    customer_id: int | None = None,
) -> int | None:
    """Write the message to the outbox (once per `key`); returns its id, None if already queued."""
    rendered = render(kind, params)
    body = json.dumps({"text": rendered.text, "html": rendered.html})
    stmt = (
        insert(MailOutbox)
        .values(
            idempotency_key=key[:200],
            kind=kind,
            customer_id=customer_id,
            to_addr=to,
            subject=rendered.subject,
            body_enc=ctx.secret_box.encrypt(body),
            status="queued",
            attempts=0,
        )
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(MailOutbox.id)
    )
    outbox_id = await session.scalar(stmt)
    if outbox_id is None:
        return None

    async def _defer() -> None:
        await ctx.queue.tasks[SEND_TASK].defer_async(outbox_id=int(outbox_id))

    on_commit(session, _defer)
    return int(outbox_id)
