"""The hosted invoice page (Stripe's ``hosted_invoice_url``), served by the Stripe emulator on
loopback (issue 16).

Stripe hosts it on invoice.stripe.com: the invoice's lines and amounts, its status, and for
an open invoice a way to pay it. The lab serves it at ``<emulator>/i/<invoice id>`` so the
portal's "Ver factura" links open a real page in `serve --lab` and in the Playwright e2e.
"Pagar" pays the open invoice exactly as ``/_lab/invoices/{id}/pay`` does (a succeeded
charge, ``invoice.paid``, and a past-due subscription back to active), and the signed
webhooks go to the control plane as Stripe would send them. Spanish, like the lab Checkout
page; lab only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from erp_core.lab.stripe import StripeFailure, StripeLab
from erp_core.lab.stripe_checkout import STATUS_ES, _date, _e, _page, money

PAYABLE = "open"


def _lines(invoice: dict[str, Any]) -> str:
    rows = []
    for line in (invoice.get("lines") or {}).get("data") or []:
        period = line.get("period") or {}
        rows.append(
            f"<tr data-testid='invoice-line'><td>{_e(line.get('description'))}"
            f"<br><small>{_date(period.get('start'))} – {_date(period.get('end'))}</small></td>"
            f"<td style='text-align:right'>{_e(money(int(line['amount']), line['currency']))}"
            "</td></tr>"
        )
    return "".join(rows)


def invoice_page(lab: StripeLab, invoice: dict[str, Any]) -> HTMLResponse:
    """The invoice as its customer sees it: number, dates, lines, totals, status, and "Pagar"
    while it is open."""
    customer = lab.s.table("customer").get(str(invoice.get("customer")), {})
    currency = str(invoice["currency"])
    status = str(invoice["status"])
    total = money(int(invoice["total"]), currency)
    due = money(int(invoice["amount_remaining"]), currency)
    pay = ""
    if status == PAYABLE:
        pay = (
            "<p>Tarjeta de prueba: Visa •••• 4242</p>"
            f"<form method='post' action='/i/{_e(invoice['id'])}/pay'>"
            f"<button class='pay' type='submit' data-testid='invoice-pay'>Pagar {_e(due)}</button>"
            "</form>"
        )
    body = (
        f"<h1>Factura {_e(invoice.get('number'))}</h1>"
        f"<p>{_e(customer.get('name') or '')} · {_e(customer.get('email') or '')}</p>"
        f"<p class='amount' data-testid='invoice-total'>{_e(total)}</p>"
        f"<p>Estado: <strong data-testid='invoice-status'>"
        f"{_e(STATUS_ES.get(status, status))}</strong></p>"
        f"<p>Emitida el {_date(invoice.get('created'))}"
        + (f" · vence el {_date(invoice.get('due_date'))}" if invoice.get("due_date") else "")
        + "</p>"
        "<table><thead><tr><th>Concepto</th><th style='text-align:right'>Importe</th></tr>"
        f"</thead><tbody>{_lines(invoice)}</tbody><tfoot>"
        f"<tr><th>Total</th><th style='text-align:right'>{_e(total)}</th></tr>"
        f"<tr><td>Pagado</td><td style='text-align:right'>"
        f"{_e(money(int(invoice['amount_paid']), currency))}</td></tr>"
        f"<tr><td>Pendiente</td><td style='text-align:right' data-testid='invoice-due'>"
        f"{_e(due)}</td></tr></tfoot></table>{pay}"
    )
    return _page(f"Factura {_e(invoice.get('number'))} (laboratorio de Stripe)", body)


def invoice_routes(lab: StripeLab, after_change: Callable[[], None]) -> list[BaseRoute]:
    """``GET /i/{id}`` (the page) and ``POST /i/{id}/pay`` (pay it, then back to the page)."""
    s = lab.s

    def _find(request: Request) -> dict[str, Any] | None:
        try:
            return s.get("invoice", str(request.path_params["id"]))
        except StripeFailure:
            return None

    def _missing() -> HTMLResponse:
        return _page("Factura no encontrada", "<h1>Esta factura no existe.</h1>", 404)

    async def show(request: Request) -> Response:
        with s.lock:
            invoice = _find(request)
            return _missing() if invoice is None else invoice_page(lab, invoice)

    async def pay(request: Request) -> Response:
        with s.lock:
            invoice = _find(request)
            if invoice is None:
                return _missing()
            if invoice["status"] not in (PAYABLE, "paid"):
                label = STATUS_ES.get(invoice["status"], invoice["status"])
                return _page(
                    "Factura no pagable",
                    f"<h1>Esta factura no se puede pagar: está «{_e(label)}».</h1>",
                    409,
                )
            customer = s.get("customer", invoice["customer"])
            with s.on_clock(customer.get("test_clock")):
                lab.pay_invoice(invoice)  # a paid invoice stays paid (no second charge)
            target = f"/i/{invoice['id']}"
        after_change()  # invoice.paid (and the subscription's recovery) leave now
        return RedirectResponse(target, status_code=303)

    return [
        Route("/i/{id}", show, methods=["GET"]),
        Route("/i/{id}/pay", pay, methods=["POST"]),
    ]
