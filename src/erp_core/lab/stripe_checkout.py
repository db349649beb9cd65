"""The pages a Stripe Checkout session and a Customer Portal session open, served by the
Stripe emulator on loopback (issue 16).

Stripe hosts these pages on checkout.stripe.com and billing.stripe.com. The lab hosts them
at the emulator's own address, so a browser in `serve --lab` (and the Playwright e2e) can
really pay: the session's ``url`` is ``<emulator>/c/pay/<id>``. "Pagar" completes the session
exactly like ``/_lab/checkout/{id}/complete`` (customer with a card on file, subscription,
paid first invoice, ``checkout.session.completed``), the signed webhooks go to the control
plane, and the browser is redirected (303) to the session's ``success_url``. "Cancelar" goes
back to ``cancel_url`` and leaves the session open, as Stripe does.

The pages are in Spanish because the control plane opens them with its Spanish customers
(Stripe localises Checkout the same way). Lab only: nothing here runs outside ``--lab`` or
the tests.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from erp_core.lab.stripe import StripeFailure, StripeLab

# Currencies Stripe counts in whole units (no cents), from Stripe's currency list.
ZERO_DECIMAL = frozenset("bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf".split())
INTERVAL_ES = {"day": "día", "week": "semana", "month": "mes", "year": "año"}
STATUS_ES = {
    "active": "Activa",
    "past_due": "Pago pendiente",
    "unpaid": "Impagada",
    "canceled": "Cancelada",
    "incomplete": "Incompleta",
    "trialing": "En prueba",
    "paused": "En pausa",
    "paid": "Pagada",
    "open": "Abierta",
    "draft": "Borrador",
    "void": "Anulada",
    "uncollectible": "Incobrable",
}
# The card a lab Checkout "collects": Stripe's test Visa, which always succeeds.
LAB_CARD = "pm_card_visa"

_STYLE = (
    "body{font-family:system-ui,sans-serif;background:#f6f9fc;color:#1a1f36;margin:0}"
    "main{max-width:32rem;margin:3rem auto;background:#fff;border-radius:8px;padding:2rem;"
    "box-shadow:0 2px 8px rgba(0,0,0,.08)}h1{font-size:1.25rem;margin:0 0 1rem}"
    ".lab{font-size:.75rem;color:#697386;text-transform:uppercase;letter-spacing:.05em}"
    ".amount{font-size:2rem;font-weight:600;margin:.25rem 0}table{width:100%;"
    "border-collapse:collapse;font-size:.875rem}td,th{padding:.4rem 0;text-align:left;"
    "border-bottom:1px solid #e3e8ee}button,.button{display:inline-block;border:0;"
    "border-radius:6px;padding:.7rem 1.2rem;font-size:1rem;cursor:pointer;"
    "text-decoration:none}.pay{background:#635bff;color:#fff;width:100%}"
    ".secondary{background:none;color:#635bff;padding-left:0}"
)


def money(amount: int, currency: str) -> str:
    """``2900, "usd"`` → ``29,00 USD`` (Spanish decimal comma; zero-decimal currencies whole)."""
    code = currency.upper()
    if currency.lower() in ZERO_DECIMAL:
        return f"{amount:,} {code}".replace(",", ".")
    whole, cents = divmod(abs(amount), 100)
    sign = "-" if amount < 0 else ""
    return f"{sign}{whole:,}".replace(",", ".") + f",{cents:02d} {code}"


def _date(ts: int | None) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%d/%m/%Y") if ts else "—"


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        "<!doctype html><html lang='es'><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width,initial-scale=1'><title>{title}</title>"
        f"<style>{_STYLE}</style></head><body><main><p class='lab'>Stripe · laboratorio</p>"
        f"{body}</main></body></html>",
        status,
    )


def _e(value: Any) -> str:
    return html.escape(str(value if value is not None else ""), quote=True)


def _line_rows(lab: StripeLab, session: dict[str, Any]) -> tuple[str, int, str]:
    """The session's line items as table rows, with the total and currency (from the prices)."""
    rows, total, currency = [], 0, "usd"
    for item in session.get("_line_items") or []:
        price = lab.s.get("price", str(item["price"]))
        product = lab.s.table("product").get(str(price.get("product")), {})
        quantity = int(item.get("quantity", 1))
        amount = int(price["unit_amount"]) * quantity
        total, currency = total + amount, str(price["currency"])
        interval = INTERVAL_ES.get(price["recurring"]["interval"], price["recurring"]["interval"])
        name = product.get("name") or price.get("nickname") or "Plan"
        rows.append(
            f"<tr><td data-testid='checkout-product'>{_e(name)}"
            f"{f' × {quantity}' if quantity != 1 else ''}</td>"
            f"<td>{_e(money(amount, currency))} / {_e(interval)}</td></tr>"
        )
    return "".join(rows), total, currency


def _redirect_url(url: str | None, session_id: str) -> str:
    """Stripe replaces ``{CHECKOUT_SESSION_ID}`` in success and cancel URLs."""
    return str(url or "/").replace("{CHECKOUT_SESSION_ID}", session_id)


def checkout_routes(lab: StripeLab, after_change: Callable[[], None]) -> list[BaseRoute]:
    """``GET /c/pay/{id}`` (the session's page) and ``POST /c/pay/{id}`` (pay)."""
    s = lab.s

    def session_or_none(request: Request) -> dict[str, Any] | None:
        try:
            return s.get("checkout.session", str(request.path_params["id"]))
        except StripeFailure:
            return None

    async def show(request: Request) -> Response:
        with s.lock:
            session = session_or_none(request)
            if session is None:
                return _page("Pago no encontrado", "<h1>Esta página de pago no existe.</h1>", 404)
            rows, total, currency = _line_rows(lab, session)
            sid = session["id"]
            if session["status"] == "complete":
                done = _e(_redirect_url(session.get("success_url"), sid))
                return _page(
                    "Pago completado",
                    "<h1>Pago completado</h1><p>Este pago ya está hecho.</p>"
                    f"<a class='button pay' href='{done}'>Continuar</a>",
                )
            if session["status"] == "expired" or int(session["expires_at"]) < s.now():
                return _page("Pago caducado", "<h1>Esta página de pago ha caducado.</h1>", 410)
            back = _e(_redirect_url(session.get("cancel_url"), sid))
            meta = session.get("metadata") or {}
            company = f"<p>{_e(meta['company'])}</p>" if meta.get("company") else ""
            body = (
                f"<h1>Suscribirse</h1>{company}"
                f"<p class='amount' data-testid='checkout-amount'>{_e(money(total, currency))}</p>"
                f"<table><tbody>{rows}</tbody></table>"
                f"<p>Correo: <strong data-testid='checkout-email'>"
                f"{_e(session.get('customer_email'))}</strong></p>"
                "<p>Tarjeta de prueba: Visa •••• 4242</p>"
                f"<form method='post' action='/c/pay/{_e(sid)}'>"
                f"<button class='pay' type='submit'>Pagar {_e(money(total, currency))}</button>"
                "</form>"
                f"<p><a class='button secondary' href='{back}'>Cancelar</a></p>"
            )
            return _page("Pago (laboratorio de Stripe)", body)

    async def pay(request: Request) -> Response:
        with s.lock:
            session = session_or_none(request)
            if session is None:
                return _page("Pago no encontrado", "<h1>Esta página de pago no existe.</h1>", 404)
            if session["status"] == "open" and int(session["expires_at"]) < s.now():
                return _page("Pago caducado", "<h1>Esta página de pago ha caducado.</h1>", 410)
            lab.complete_checkout(session)
            target = _redirect_url(session.get("success_url"), session["id"])
        after_change()  # the signed webhooks leave now, as Stripe sends them after payment
        return RedirectResponse(target, status_code=303)

    return [
        Route("/c/pay/{id}", show, methods=["GET"]),
        Route("/c/pay/{id}", pay, methods=["POST"]),
    ]


def billing_portal_page(lab: StripeLab, session: dict[str, Any]) -> HTMLResponse:
    """A Customer Portal session's page: the customer's subscriptions, invoices and card,
    and "Volver" to the session's ``return_url``."""
    s = lab.s
    customer = s.get("customer", session["customer"])
    subs = [sub for sub in s.table("subscription").values() if sub["customer"] == customer["id"]]
    sub_rows = []
    for sub in sorted(subs, key=lambda row: row["created"], reverse=True):
        item = sub["items"]["data"][0]
        price = item["price"]
        product = s.table("product").get(str(price.get("product")), {})
        interval = INTERVAL_ES.get(price["recurring"]["interval"], price["recurring"]["interval"])
        ends = (
            f"Se cancela el {_date(sub.get('cancel_at'))}"
            if sub.get("cancel_at_period_end")
            else f"Se renueva el {_date(item.get('current_period_end'))}"
        )
        sub_rows.append(
            f"<tr data-testid='portal-subscription'><td>{_e(product.get('name') or 'Plan')}</td>"
            f"<td>{_e(money(int(price['unit_amount']) * int(item.get('quantity', 1)), price['currency']))}"
            f" / {_e(interval)}</td><td>{_e(STATUS_ES.get(sub['status'], sub['status']))}</td>"
            f"<td>{_e(ends)}</td></tr>"
        )
    invoices = [inv for inv in s.table("invoice").values() if inv["customer"] == customer["id"]]
    invoice_rows = [
        f"<tr data-testid='portal-invoice'><td>{_e(inv.get('number'))}</td>"
        f"<td>{_date(inv.get('created'))}</td>"
        f"<td>{_e(money(int(inv['total']), inv['currency']))}</td>"
        f"<td>{_e(STATUS_ES.get(inv['status'], inv['status']))}</td></tr>"
        for inv in sorted(invoices, key=lambda row: row["created"], reverse=True)
    ]
    method = (customer.get("invoice_settings") or {}).get("default_payment_method")
    back = _e(session.get("return_url"))
    body = (
        "<h1>Facturación</h1>"
        f"<p data-testid='portal-customer'>{_e(customer.get('email'))}</p>"
        "<h2>Suscripciones</h2><table><thead><tr><th>Plan</th><th>Precio</th><th>Estado</th>"
        f"<th></th></tr></thead><tbody>{''.join(sub_rows)}</tbody></table>"
        "<h2>Método de pago</h2>"
        f"<p>{'Visa •••• 4242' if method else 'Sin tarjeta guardada'}</p>"
        "<h2>Facturas</h2><table><thead><tr><th>Número</th><th>Fecha</th><th>Importe</th>"
        f"<th>Estado</th></tr></thead><tbody>{''.join(invoice_rows)}</tbody></table>"
        f"<p><a class='button secondary' data-testid='portal-return' href='{back}'>Volver</a></p>"
    )
    return _page("Facturación (laboratorio de Stripe)", body)
