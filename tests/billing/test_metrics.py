"""Known-answer suite for the metrics (docs/metrics.md's worked example and more).

Every expected number is computed by hand in the comments, from the definitions."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import httpx
import pytest
from tests.billing.stripe_events import Events, at, post_event

from erp_core.billing import webhooks
from erp_core.context import AppContext
from erp_core.lab import StripeLabHandle

MONTHLY = "month"


def _sub(
    events: Events, type_: str, sub: str, cus: str, status: str, items: list[Any], when: str
) -> dict[str, Any]:
    return events.event(
        f"customer.subscription.{type_}", events.subscription(sub, cus, status, items), at(when)
    )


def worked_example(events: Events) -> list[dict[str, Any]]:
    """Month M = 2026-03. Customers A..K, one story each (see docs/metrics.md)."""
    s = _sub
    evs = [
        # A: 100.00/month since January, unchanged.
        s(events, "created", "sub_a", "cus_a", "active", [(10000, 1)], "2026-01-10"),
        # B: upgrade 50.00 × 1 → × 3 on 12 March (expansion 10000).
        s(events, "created", "sub_b", "cus_b", "active", [(5000, 1)], "2026-01-11"),
        s(events, "updated", "sub_b", "cus_b", "active", [(5000, 3)], "2026-03-12"),
        # C: yearly 1,200.00 (MRR 10000) → yearly 600.00 (MRR 5000) on 20 March: contraction 5000.
        s(events, "created", "sub_c", "cus_c", "active", [(120000, 1, "year")], "2026-02-01"),
        s(events, "updated", "sub_c", "cus_c", "active", [(60000, 1, "year")], "2026-03-20"),
        # D: 80.00/month, canceled 15 March: churned 8000.
        s(events, "created", "sub_d", "cus_d", "active", [(8000, 1)], "2026-01-05"),
        s(events, "deleted", "sub_d", "cus_d", "canceled", [(8000, 1)], "2026-03-15"),
        # E: trial from 1 March 10:00 (0), active 15 March at 30.00 × 3: new 9000.
        s(events, "created", "sub_e", "cus_e", "trialing", [(3000, 3)], "2026-03-01T10:00:00"),
        s(events, "updated", "sub_e", "cus_e", "active", [(3000, 3)], "2026-03-15"),
        # F: 40.00/month in January, canceled 10 February, new subscription 5 March:
        # reactivation 4000.
        s(events, "created", "sub_f1", "cus_f", "active", [(4000, 1)], "2026-01-03"),
        s(events, "deleted", "sub_f1", "cus_f", "canceled", [(4000, 1)], "2026-02-10"),
        s(events, "created", "sub_f2", "cus_f", "active", [(4000, 1)], "2026-03-05"),
        # G: 70.00/month, past_due 25 February (still counts), unpaid 8 March: churned 7000.
        s(events, "created", "sub_g", "cus_g", "active", [(7000, 1)], "2026-01-07"),
        s(events, "updated", "sub_g", "cus_g", "past_due", [(7000, 1)], "2026-02-25"),
        s(events, "updated", "sub_g", "cus_g", "unpaid", [(7000, 1)], "2026-03-08"),
        # H: 100.00/month with a *forever* 25 % customer discount since 5 February: 7500.
        s(events, "created", "sub_h", "cus_h", "active", [(10000, 1)], "2026-01-20"),
        events.event(
            "customer.discount.created",
            events.discount(
                "di_h", "cus_h", None, events.coupon("FOREVER25", "forever", percent_off=25.0)
            ),
            at("2026-02-05"),
        ),
        # I: 100.00/month with a *repeating* 50 % coupon (named by id only): MRR stays 10000.
        s(events, "created", "sub_i", "cus_i", "active", [(10000, 1)], "2026-01-21"),
        events.event(
            "customer.discount.created",
            events.discount("di_i", "cus_i", "sub_i", "HALF3"),
            at("2026-02-06"),
        ),
        # J: 10.00/week: 1000 × 52 / 12 = 4333.33… (exact fraction 13000/3).
        s(events, "created", "sub_j", "cus_j", "active", [(1000, 1, "week")], "2026-01-22"),
        # K: yearly 1,200.00 with a forever amount_off 120.00 per (yearly) interval:
        # (120000 − 12000) / 12 = 9000.
        s(events, "created", "sub_k", "cus_k", "active", [(120000, 1, "year")], "2026-01-23"),
        events.event(
            "customer.discount.created",
            events.discount(
                "di_k", "cus_k", "sub_k", events.coupon("OFF120", "forever", amount_off=12000)
            ),
            at("2026-01-23T00:00:01"),
        ),
        # Revenue: paid in March 10000 + 9000 + 4000; one paid in February and one on 1 April
        # 00:00:00 do not count.
        events.event(
            "invoice.paid",
            events.invoice("in_a3", "cus_a", "sub_a", 10000, "paid", at("2026-03-10")),
            at("2026-03-10"),
        ),
        events.event(
            "invoice.paid",
            events.invoice("in_e3", "cus_e", "sub_e", 9000, "paid", at("2026-03-15")),
            at("2026-03-15"),
        ),
        events.event(
            "invoice.paid",
            events.invoice("in_f3", "cus_f", "sub_f2", 4000, "paid", at("2026-03-05")),
            at("2026-03-05"),
        ),
        events.event(
            "invoice.paid",
            events.invoice("in_a2", "cus_a", "sub_a", 10000, "paid", at("2026-02-28T23:59:59")),
            at("2026-02-28T23:59:59"),
        ),
        events.event(
            "invoice.paid",
            events.invoice("in_a4", "cus_a", "sub_a", 10000, "paid", at("2026-04-01")),
            at("2026-04-01"),
        ),
        # Refunds (cumulative amount_refunded): ch_a3 2000 on 20 March, then 5000 on 2 April
        # (+3000 in April); ch_a2 1500 on 21 March. March refunded = 2000 + 1500 = 3500.
        events.event(
            "charge.refunded", events.charge("ch_a3", "cus_a", 10000, 5000), at("2026-04-02")
        ),
        events.event(
            "charge.refunded", events.charge("ch_a3", "cus_a", 10000, 2000), at("2026-03-20")
        ),
        events.event(
            "charge.refunded", events.charge("ch_a2", "cus_a", 10000, 1500), at("2026-03-21")
        ),
    ]
    return evs


@pytest.fixture
async def loaded(
    client: httpx.AsyncClient, ctx: AppContext, events: Events, stripe_lab: StripeLabHandle
) -> AppContext:
    async with httpx.AsyncClient(base_url=stripe_lab.api_base) as lab:
        created = await lab.post(
            "/v1/coupons",
            data={
                "id": "HALF3",
                "percent_off": "50",
                "duration": "repeating",
                "duration_in_months": "3",
            },
            headers={"Authorization": f"Bearer {stripe_lab.api_key}"},
        )
        assert created.status_code == 200
    for event in worked_example(events):
        assert (await post_event(client, event)).status_code == 200
    await webhooks.process_pending(ctx)
    return ctx


async def test_worked_example_march(
    loaded: AppContext, client: httpx.AsyncClient, viewer: dict[str, Any]
) -> None:
    response = await client.get("/api/billing/metrics?month=2026-03", headers=viewer["headers"])
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    start = Fraction(10000 + 5000 + 10000 + 8000 + 7000 + 7500 + 10000 + 9000) + Fraction(13000, 3)
    end = Fraction(10000 + 15000 + 5000 + 9000 + 4000 + 7500 + 10000 + 9000) + Fraction(13000, 3)
    assert start + 9000 + 4000 + 10000 - 5000 - 15000 == end
    assert data["mrr_start"] == 70833  # 70833.33…
    assert data["mrr"] == 73833  # 73833.33…
    assert data["arr"] == 886000  # 12 × 73833.33… = 886000 exactly
    assert (data["new_mrr"], data["reactivation_mrr"], data["expansion_mrr"]) == (9000, 4000, 10000)
    assert (data["contraction_mrr"], data["churned_mrr"]) == (5000, 15000)
    assert (data["customers_start"], data["active_customers"]) == (9, 9)
    assert (data["new_customers"], data["reactivated_customers"], data["churned_customers"]) == (
        1,
        1,
        2,
    )
    assert data["customer_churn_rate"] == pytest.approx(2 / 9, abs=1e-15)
    assert data["gross_mrr_churn_rate"] == pytest.approx(float(Fraction(20000) / start), abs=1e-15)
    assert data["gross_mrr_churn_rate"] == pytest.approx(240000 / 850000, abs=1e-15)
    assert data["net_mrr_churn_rate"] == pytest.approx(72000 / 850000, abs=1e-15)
    assert data["nrr"] == pytest.approx(730000 / 850000, abs=1e-15)
    assert data["arpa"] == 8204  # 73833.33… / 9 = 8203.70…
    assert data["revenue"] == 23000 - 3500
    assert data["currency"] == "usd" and data["month"] == "2026-03"


async def test_previous_months_and_series(
    loaded: AppContext, client: httpx.AsyncClient, viewer: dict[str, Any]
) -> None:
    series = await client.get(
        "/api/billing/metrics/series?from=2026-01&to=2026-04", headers=viewer["headers"]
    )
    assert series.status_code == 200
    rows = {r["month"]: r for r in series.json()["data"]}
    assert list(rows) == ["2026-01", "2026-02", "2026-03", "2026-04"]
    jan = rows["2026-01"]
    # January: everything is new; at 1 Feb 00:00:00: A 10000, B 5000, C 10000 (created at that
    # very instant: it counts), D 8000, F 4000, G 7000, H 10000, I 10000, J 4333.33…, K 9000.
    assert jan["mrr_start"] == 0 and jan["mrr"] == 77333 and jan["new_customers"] == 10
    assert jan["customer_churn_rate"] is None and jan["nrr"] is None
    feb = rows["2026-02"]
    # February: H contracts by the forever coupon (2500), F churns (4000).
    assert (feb["new_mrr"], feb["contraction_mrr"], feb["churned_mrr"]) == (0, 2500, 4000)
    assert feb["mrr"] == 70833 and feb["revenue"] == 10000
    assert rows["2026-03"]["mrr_start"] == feb["mrr"]
    apr = rows["2026-04"]
    assert apr["revenue"] == 10000 - 3000
    comparison = await client.get(
        "/api/billing/comparison?month=2026-03", headers=viewer["headers"]
    )
    body = comparison.json()["data"]
    assert body["previous_month"] == "2026-02" and body["change"]["mrr"] == 73833 - 70833
    assert body["change_pct"]["revenue"] == pytest.approx((19500 - 10000) / 10000)


async def test_bad_months_are_422(client: httpx.AsyncClient, viewer: dict[str, Any]) -> None:
    for query in ("month=2026-13", "month=26-01", "month=2999-01"):
        response = await client.get(f"/api/billing/metrics?{query}", headers=viewer["headers"])
        assert response.status_code == 422, query
        assert response.json()["error"] == "VALIDATION_ERROR"
    response = await client.get(
        "/api/billing/metrics/series?from=2026-05&to=2026-01", headers=viewer["headers"]
    )
    assert response.status_code == 422


async def test_same_second_later_received_wins(
    client: httpx.AsyncClient, ctx: AppContext, events: Events, viewer: dict[str, Any]
) -> None:
    first = _sub(events, "updated", "sub_t", "cus_t", "active", [(1000, 1)], "2026-05-10T12:00:00")
    second = _sub(events, "updated", "sub_t", "cus_t", "active", [(2000, 1)], "2026-05-10T12:00:00")
    for event in (first, second):
        await post_event(client, event)
    await webhooks.process_pending(ctx)
    data = (
        await client.get("/api/billing/metrics?month=2026-05", headers=viewer["headers"])
    ).json()["data"]
    assert data["mrr"] == 2000 and data["new_mrr"] == 2000


async def test_quantities_and_mixed_interval_counts(
    client: httpx.AsyncClient, ctx: AppContext, events: Events, viewer: dict[str, Any]
) -> None:
    # 2 × 900 every 3 months = 600/month; 365 × 10 per day ÷ 12 … one item of 10/day:
    # 10 × 365 / 12 = 304.1666…; total 904.1666… → 904.
    items = [(900, 2, "month", 3), (10, 1, "day")]
    await post_event(
        client, _sub(events, "created", "sub_q", "cus_q", "past_due", items, "2026-06-02")
    )
    await webhooks.process_pending(ctx)
    data = (
        await client.get("/api/billing/metrics?month=2026-06", headers=viewer["headers"])
    ).json()["data"]
    assert data["mrr"] == 904 and data["arr"] == 10850  # 12 × 904.1666… = 10850
