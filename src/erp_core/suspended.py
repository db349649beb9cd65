"""The public page a suspended tenant's visitors see: the reason and whom to contact.

"Contacte con facturación" is wrong for a manual suspension, and a page without a contact
leaves the customer stranded. The reason comes from the tenant row (looked up by subdomain,
bounded by a short timeout: this page must answer even when the database does not), the
contact from the `support_email` / `support_url` settings.
"""

from __future__ import annotations

import asyncio
import html
import logging
from typing import Any

from sqlalchemy import select

from erp_core.models import Tenant

log = logging.getLogger(__name__)

PAGE = """<!doctype html>
<html lang="es"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Servicio suspendido</title>
<style>body{{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;
background:#0F1419;color:#E6EEF5;font-family:Inter,system-ui,sans-serif}}
main{{max-width:32rem;padding:2rem;border:1px solid #2F3640;border-radius:12px;background:#1A1F26}}
h1{{color:#fff;font-size:1.5rem;margin:0 0 .75rem}}p{{color:#B3CDE0;line-height:1.5}}
b{{color:#00FF9F}}a{{color:#00FF9F}}</style></head>
<body><main><h1>{title}</h1>
<p>El acceso a <b>{host}</b> está suspendido temporalmente. Sus datos se conservan intactos.</p>
<p>{why}</p>{contact}</main></body></html>
"""

REASONS = {
    "billing": (
        "Servicio suspendido por un pago pendiente",
        "La suscripción tiene un pago pendiente. En cuanto se regularice, el servicio se "
        "reactiva automáticamente.",
        "Para cualquier duda sobre facturación, contacte con",
    ),
    "manual": (
        "Servicio suspendido temporalmente",
        "El administrador del servicio ha suspendido el acceso.",
        "Para más información o para reactivarlo, contacte con",
    ),
    None: (
        "Servicio suspendido temporalmente",
        "El acceso a este servicio está suspendido.",
        "Para más información, contacte con",
    ),
}


async def _reason(app: Any, host: str, base_suffix: str) -> str | None:
    ctx = getattr(getattr(app, "state", None), "ctx", None)
    if ctx is None or not host.endswith(base_suffix):
        return None

    subdomain = host[: -len(base_suffix)]
    try:
        async with asyncio.timeout(1.0), ctx.db.sessionmaker() as session:
            reason = await session.scalar(
                select(Tenant.suspension_reason).where(
                    Tenant.subdomain == subdomain, Tenant.status == "suspended"
                )
            )
    except Exception as exc:  # the page must render without the database
        log.warning("suspended page without reason", extra={"error": type(exc).__name__})
        return None
    return str(reason) if reason in ("billing", "manual") else None


def _contact(app: Any, lead: str) -> str:
    ctx = getattr(getattr(app, "state", None), "ctx", None)
    settings = getattr(ctx, "settings", None)
    email = getattr(settings, "support_email", None)
    url = getattr(settings, "support_url", None)
    links = []
    if email:
        safe = html.escape(email, quote=True)
        links.append(f'<a href="mailto:{safe}">{safe}</a>')
    if url and str(url).startswith(("https://", "http://")):
        links.append(f'<a href="{html.escape(url, quote=True)}">la página de soporte</a>')
    if not links:
        return "<p>Para más información, contacte con su proveedor de Jeturing.</p>"
    return f"<p>{lead} {' o '.join(links)}.</p>"


async def render(app: Any, host: str, base_suffix: str) -> bytes:
    reason = await _reason(app, host, base_suffix)
    title, why, lead = REASONS[reason]
    return PAGE.format(
        title=title, host=html.escape(host), why=why, contact=_contact(app, lead)
    ).encode()
