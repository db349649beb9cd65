"""The lab's business simulation and the lab Stripe's test clocks.

The simulation drives the lab Stripe (test clock, automatic collection, retries); its signed
webhooks go through the production intake and a real worker. The test then recomputes every
simulated month's MRR, churn and revenue on its own from the lab Stripe's event log (a few
lines of Fractions, not the SQL under test) and requires the API to agree exactly.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import httpx
import pytest

from control_plane_lab import (  # noqa: F401  (fixtures; `settings` layers on billing's)
    lab_ctx,
    lab_stack,
    settings,
    suspended_page_server,
    worker,
)
from erp_core.context import AppContext
from erp_core.lab import StripeLabHandle, start_stripe_lab
from erp_core.lab.runtime import (
    LAB_PRICES,
    lab_stripe_keys,
    price_lab_plans,
    save_lab_stripe_state,
)
from erp_core.lab.simulate import month_starts, run_simulation
from erp_core.lab.stripe import period_end

COUNTING = {"active", "past_due"}


def _lab(stripe_lab: StripeLabHandle) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=stripe_lab.api_base,
        headers={"Authorization": f"Bearer {stripe_lab.api_key}"},
        timeout=60,
    )


async def _forward(client: httpx.AsyncClient, stripe_lab: StripeLabHandle, start: int) -> int:
    """Deliver the lab's signed webhooks to the control plane in order, as Stripe would."""
    deliveries = list(stripe_lab.state.deliveries)
    for delivery in deliveries[start:]:
        response = await client.post(
            "/api/webhooks/stripe",
            content=delivery["body"].encode(),
            headers={"Stripe-Signature": delivery["signature"], "Content-Type": "application/json"},
        )
        assert response.status_code == 200, response.text
    return len(deliveries)


async def _applied(client: httpx.AsyncClient, headers: dict[str, str], total: int) -> None:
    """Wait (bounded) until the worker applied every stored event."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        page = await client.get(
            "/api/billing/events", params={"state": "pending", "per_page": 1}, headers=headers
        )
        failed = await client.get(
            "/api/billing/events", params={"state": "failed", "per_page": 1}, headers=headers
        )
        assert failed.json()["meta"]["total"] == 0, failed.text
        if page.json()["meta"]["total"] == 0:
            return
        await asyncio.sleep(0.5)
    raise AssertionError("events still pending")


def _mrr(sub: dict[str, Any]) -> Fraction:
    total = Fraction(0)
    for item in sub["items"]["data"]:
        recurring = item["price"]["recurring"]
        months = recurring["interval_count"] * (12 if recurring["interval"] == "year" else 1)
        total += Fraction(item["price"]["unit_amount"] * item["quantity"], months)
    return total


def _half_up(value: Fraction) -> int:
    return int((Decimal(value.numerator) / Decimal(value.denominator)).quantize(
        Decimal(1), rounding=ROUND_HALF_UP))  # fmt: skip


def recompute(events: list[dict[str, Any]], start: int, end: int) -> dict[str, Any]:
    """MRR, churn and revenue of [start, end) straight from Stripe's events."""
    history: dict[str, list[tuple[int, int, dict[str, Any]]]] = defaultdict(list)
    for n, event in enumerate(events):
        if event["type"].startswith("customer.subscription."):
            sub = event["data"]["object"]
            history[sub["id"]].append((event["created"], n, sub))

    def by_customer(at: int) -> dict[str, Fraction]:
        totals: dict[str, Fraction] = defaultdict(Fraction)
        for states in history.values():
            known = [s for s in states if s[0] <= at]
            if known:
                sub = max(known, key=lambda s: (s[0], s[1]))[2]
                if sub["status"] in COUNTING:
                    totals[sub["customer"]] += _mrr(sub)
        return {c: v for c, v in totals.items() if v > 0}

    before, after = by_customer(start), by_customer(end)
    churned = [c for c in before if c not in after]
    paid = sum(
        e["data"]["object"]["amount_paid"]
        for e in events
        if e["type"] == "invoice.paid"
        and start <= e["data"]["object"]["status_transitions"]["paid_at"] < end
    )
    return {
        "mrr": _half_up(sum(after.values(), Fraction(0))),
        "mrr_start": _half_up(sum(before.values(), Fraction(0))),
        "active_customers": len(after),
        "customers_start": len(before),
        "churned_customers": len(churned),
        "customer_churn_rate": len(churned) / len(before) if before else None,
        "revenue": paid,
    }


async def test_simulated_months_match_a_recomputation_from_stripe_events(
    client: httpx.AsyncClient,
    lab_ctx: AppContext,
    worker: None,
    admin: dict[str, Any],
    stripe_lab: StripeLabHandle,
) -> None:
    prices = await price_lab_plans(lab_ctx)
    plans = await client.get("/api/billing/plans", headers=admin["headers"])
    by_code = {p["code"]: p for p in plans.json()["data"]}
    for code, (monthly, yearly) in LAB_PRICES.items():  # mapped as an operator would
        assert by_code[code]["stripe_price_monthly_id"] == prices[code][0]
        assert (by_code[code]["monthly_price"], by_code[code]["yearly_price"]) == (monthly, yearly)

    months, progress_seen = 5, []

    async def progress(done: int, total: int, message: str) -> None:
        progress_seen.append(done)

    counts = await run_simulation(
        api_base=stripe_lab.api_base, api_key=stripe_lab.api_key, prices=prices,
        months=months, customers=14, seed=7, run_tag="t", progress=progress,
    )  # fmt: skip
    assert counts["signup"] == 14 and progress_seen[-1] == months
    # The story has the movements the metrics must tell apart.
    types = {e["type"] for e in stripe_lab.state.events}
    assert {"invoice.paid", "invoice.payment_failed", "customer.subscription.deleted"} <= types
    total = await _forward(client, stripe_lab, 0)
    await _applied(client, admin["headers"], total)

    events = list(stripe_lab.state.events)
    now = int(time.time())
    checked = 0
    for start in month_starts(months, now):
        end = period_end(start, "month", 1)
        month = datetime.fromtimestamp(start, UTC).strftime("%Y-%m")
        response = await client.get(
            "/api/billing/metrics", params={"month": month}, headers=admin["headers"]
        )
        assert response.status_code == 200, response.text
        api = response.json()["data"]
        expected = recompute(events, start, end)
        got = {k: api[k] for k in expected}
        if expected["customer_churn_rate"] is not None:
            assert got["customer_churn_rate"] == pytest.approx(expected["customer_churn_rate"])
            got["customer_churn_rate"] = expected["customer_churn_rate"]
        assert got == expected, month
        checked += expected["mrr"] > 0
    assert checked >= months - 1  # a business, not a row of zeros


async def test_test_clock_renews_retries_and_cancels_on_the_clock(
    stripe_lab: StripeLabHandle, lab_ctx: AppContext
) -> None:
    start = 1_767_225_600  # 2026-01-01T00:00:00Z
    async with _lab(stripe_lab) as lab:
        clock = (
            await lab.post("/v1/test_helpers/test_clocks", data={"frozen_time": str(start)})
        ).json()
        assert (clock["object"], clock["status"], clock["frozen_time"]) == (
            "test_helpers.test_clock", "ready", start,
        )  # fmt: skip
        price = (
            await lab.post("/v1/prices", data={
                "currency": "usd", "unit_amount": "5000", "recurring[interval]": "month",
                "product_data[name]": "Plan",
            })
        ).json()["id"]  # fmt: skip
        customer = (
            await lab.post("/v1/customers", data={
                "email": "reloj@example.com", "test_clock": clock["id"],
                "payment_method": "pm_card_visa",
            })
        ).json()  # fmt: skip
        assert customer["test_clock"] == clock["id"] and customer["created"] == start
        sub = (
            await lab.post(
                "/v1/subscriptions", data={"customer": customer["id"], "items[0][price]": price}
            )
        ).json()
        assert sub["test_clock"] == clock["id"]
        assert sub["items"]["data"][0]["current_period_end"] == 1_769_904_000  # 1 Feb
        # The card starts failing; the February renewal fails and is retried on the clock.
        await lab.post(
            f"/v1/customers/{customer['id']}",
            data={"invoice_settings[default_payment_method]": "pm_card_chargeCustomerFail"},
        )
        mark = len(stripe_lab.state.events)
        advanced = await lab.post(
            f"/v1/test_helpers/test_clocks/{clock['id']}/advance",
            data={"frozen_time": str(start + 70 * 86_400)},
        )
        assert advanced.status_code == 200 and advanced.json()["status"] == "ready"
        back = await lab.post(
            f"/v1/test_helpers/test_clocks/{clock['id']}/advance",
            data={"frozen_time": str(start)},
        )
        assert back.status_code == 400
        got = (await lab.get(f"/v1/subscriptions/{sub['id']}")).json()
    later = stripe_lab.state.events[mark:]
    created = [e["created"] for e in later]
    assert created == sorted(created) and max(created) == start + 70 * 86_400
    failures = [e for e in later if e["type"] == "invoice.payment_failed"]
    # 1 Feb, then retries after 3, 5 and 7 more days; the last failure cancels.
    feb = 1_769_904_000
    assert [e["created"] for e in failures] == [
        feb, feb + 3 * 86_400, feb + 8 * 86_400, feb + 15 * 86_400,
    ]  # fmt: skip
    statuses = [
        (e["created"], e["data"]["object"]["status"])
        for e in later
        if e["type"].startswith("customer.subscription.")
    ]
    assert (feb, "past_due") in statuses and statuses[-1] == (feb + 15 * 86_400, "canceled")
    assert got["status"] == "canceled"


async def test_simulation_api_is_admin_and_lab_only(
    client: httpx.AsyncClient, ctx: AppContext, admin: dict[str, Any], operator: dict[str, Any]
) -> None:
    denied = await client.post("/api/lab/simulate", json={}, headers=operator["headers"])
    assert denied.status_code == 403
    bad = await client.post("/api/lab/simulate", json={"months": 0}, headers=admin["headers"])
    assert bad.status_code == 422 and bad.json()["success"] is False
    outside = await client.post("/api/lab/simulate", json={}, headers=admin["headers"])
    assert outside.status_code == 409 and outside.json()["error"] == "LAB_MODE_REQUIRED"


def test_lab_stripe_keys_are_made_once_per_var_folder(tmp_path: Path) -> None:
    first = lab_stripe_keys(tmp_path / "a")
    assert lab_stripe_keys(tmp_path / "a") == first  # a restart keeps them
    other = lab_stripe_keys(tmp_path / "b")
    assert other[0] != first[0] and other[1] != first[1]
    assert first[0].startswith("sk_test_lab_") and first[1].startswith("whsec_")
    stored = tmp_path / "a" / "keys" / "lab_stripe.json"
    assert stored.stat().st_mode & 0o077 == 0  # readable by its owner only


async def test_a_price_mapped_to_another_plan_is_a_409_not_a_500(
    client: httpx.AsyncClient, ctx: AppContext, admin: dict[str, Any], stripe_lab: StripeLabHandle
) -> None:
    prices = await price_lab_plans(ctx)
    response = await client.put(
        "/api/billing/plans/pro",
        json={"stripe_price_monthly_id": prices["basic"][0]},
        headers=admin["headers"],
    )
    assert response.status_code == 409 and response.json()["error"] == "PRICE_IN_USE"
    plans = (await client.get("/api/billing/plans", headers=admin["headers"])).json()["data"]
    assert {p["code"]: p["stripe_price_monthly_id"] for p in plans}["pro"] == prices["pro"][0]


async def test_the_lab_stripe_account_survives_a_restart(tmp_path: Path) -> None:
    first = start_stripe_lab()
    try:
        async with _lab(first) as lab:
            price_form = {
                "currency": "usd", "unit_amount": "2900", "recurring[interval]": "month",
                "product_data[name]": "Plan",
            }  # fmt: skip
            key = {"Idempotency-Key": "lab-price-basic-month-usd"}
            price = (await lab.post("/v1/prices", data=price_form, headers=key)).json()
            customer = (await lab.post("/v1/customers", data={"email": "a@example.com"})).json()
        save_lab_stripe_state(first, tmp_path / "stripe_state.json")
    finally:
        first.stop()
    second = start_stripe_lab(api_key=first.api_key, webhook_secret=first.webhook_secret)
    try:
        second.state.load(json.loads((tmp_path / "stripe_state.json").read_text()))
        async with _lab(second) as lab:
            known = await lab.get(f"/v1/customers/{customer['id']}")
            again = await lab.post("/v1/prices", data=price_form, headers=key)
        assert known.status_code == 200 and known.json()["email"] == "a@example.com"
        assert again.json()["id"] == price["id"]  # the lab reprices with the same ids
    finally:
        second.stop()
