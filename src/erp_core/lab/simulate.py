"""`erp-core lab simulate`: a year of business driven through the lab Stripe.

The simulation plays the *customers* (sign-ups, upgrades, cards that start failing and get
fixed or not, cancellations, come-backs) against the lab Stripe's public API, on one Stripe
test clock that starts ``months`` calendar months ago and is advanced to now. The lab Stripe
does what Stripe does on its own (renewals, invoices, automatic charges, retries, dunning
cancellation) and sends every event, signed, to ``POST /api/webhooks/stripe``; the control
plane records them through the same intake and handlers as in production. Nothing is written
to our tables here: every figure on Facturación comes from those events.

Simulated customers have no tenants: billing records a Stripe customer without a tenant (a
``Customer`` row, subscriptions and invoices), and provisioning dozens of lab Odoo databases
would only slow the lab down without changing a figure. See docs/billing.md.

Deterministic: the same ``seed``, ``months`` and ``customers`` give the same actions at the
same clock times (Stripe ids differ; figures do not). Each POST carries an idempotency key
derived from the job and the call's position, so a re-run of the step after a crash replays
the creations it already made instead of doubling them (its later decisions read the lab's
current state, so an interrupted run is not guaranteed to end exactly as an uninterrupted
one). Every run adds its own customers: two runs add up.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from erp_core.lab.stripe import period_end

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], Awaitable[None]]
GOOD_CARD = "pm_card_visa"
FAILING_CARD = "pm_card_chargeCustomerFail"
PLANS = ("basic", "pro", "enterprise")


class SimulationError(Exception):
    """The lab Stripe refused a simulated action (message in Spanish, for the job log)."""


@dataclass(frozen=True)
class Action:
    at: int
    order: int
    kind: str  # signup | upgrade | card_fails | card_fixed | cancel | comeback
    customer: int
    plan: str = ""
    interval: str = "month"


@dataclass
class SimCustomer:
    index: int
    stripe_id: str | None = None
    subscription: str | None = None
    item: str | None = None
    plan: str = "basic"
    interval: str = "month"


def month_starts(months: int, now: int) -> list[int]:
    """The first instant (UTC) of each of the ``months`` months before the current one."""
    current = datetime.fromtimestamp(now, UTC).replace(
        day=1, hour=0, minute=0, second=0, microsecond=0
    )
    first = period_end(int(current.timestamp()), "month", -months)
    return [period_end(first, "month", i) for i in range(months)]


def plan_actions(months: int, customers: int, seed: int, now: int) -> list[Action]:
    """Every customer's story as clock-timed actions (pure: a function of the arguments)."""
    rng = random.Random(seed)
    starts = month_starts(months, now)
    horizon = now - 120
    actions: list[Action] = []
    order = 0

    def at(month: int, day: float) -> int:
        month = max(0, min(month, months - 1))
        return min(starts[month] + int(day * 86_400) + rng.randrange(3_600), horizon)

    for i in range(customers):
        # Most sign-ups early in the period, a steady trickle later.
        joined = min(months - 1, int(rng.random() ** 1.4 * months))
        plan = rng.choices(PLANS, weights=(5, 3.5, 1.5))[0]
        interval = "year" if rng.random() < 0.15 else "month"
        signup = at(joined, rng.uniform(0.5, 26))
        events = [Action(signup, 0, "signup", i, plan, interval)]
        remaining = months - 1 - joined
        roll = rng.random()
        if remaining >= 2 and interval == "month" and plan != "enterprise" and roll < 0.25:
            up = PLANS[PLANS.index(plan) + 1]
            events.append(Action(at(joined + rng.randint(1, remaining), rng.uniform(1, 26)), 0,
                                 "upgrade", i, up, interval))  # fmt: skip
        elif remaining >= 2 and interval == "month" and roll < 0.45:
            failing_from = at(joined + rng.randint(1, remaining), rng.uniform(1, 20))
            events.append(Action(failing_from, 0, "card_fails", i))
            if rng.random() < 0.5:  # fixed during the retries: a recovered payment
                events.append(Action(min(failing_from + 33 * 86_400 + 4 * 86_400, horizon),
                                     0, "card_fixed", i))  # fmt: skip
        elif remaining >= 2 and roll < 0.65:
            leave_month = joined + rng.randint(1, remaining)
            leave = at(leave_month, rng.uniform(1, 26))
            events.append(Action(leave, 0, "cancel", i))
            if leave_month + 2 <= months - 1 and rng.random() < 0.5:
                back = at(leave_month + rng.randint(1, 2), rng.uniform(1, 26))
                if back > leave:
                    events.append(Action(back, 0, "comeback", i, plan, "month"))
        for event in events:
            actions.append(Action(event.at, order, event.kind, i, event.plan, event.interval))
            order += 1
    return sorted(actions, key=lambda a: (a.at, a.order))


def _form(params: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """Stripe's bracket form encoding (``items[0][price]=…``)."""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        name = f"{prefix}[{key}]" if prefix else key
        if isinstance(value, dict):
            pairs += _form(value, name)
        elif isinstance(value, list):
            for n, entry in enumerate(value):
                pairs += (
                    _form(entry, f"{name}[{n}]")
                    if isinstance(entry, dict)
                    else [(f"{name}[{n}]", str(entry))]
                )
        elif isinstance(value, bool):
            pairs.append((name, "true" if value else "false"))
        elif value is not None:
            pairs.append((name, str(value)))
    return pairs


class LabStripe:
    """The customer side of the lab Stripe's public API (what Stripe.js/Dashboard would do)."""

    def __init__(self, api_base: str, api_key: str, key_prefix: str) -> None:
        self.client = httpx.AsyncClient(
            base_url=api_base, headers={"Authorization": f"Bearer {api_key}"}, timeout=120
        )
        self.prefix, self.calls = key_prefix, 0

    async def call(self, method: str, path: str, params: dict[str, Any] | None = None) -> Any:
        self.calls += 1
        headers = {"Idempotency-Key": f"{self.prefix}-{self.calls}"} if method == "POST" else {}
        response = await self.client.request(
            method, path, data=dict(_form(params or {})) if method == "POST" else None,
            headers=headers,
        )  # fmt: skip
        if response.status_code >= 400:
            raise SimulationError(
                f"El Stripe del laboratorio rechazó {method} {path} ({response.status_code})."
            )
        return response.json()

    async def aclose(self) -> None:
        await self.client.aclose()


async def run_simulation(
    *,
    api_base: str,
    api_key: str,
    prices: dict[str, tuple[str, str]],
    months: int,
    customers: int,
    seed: int,
    run_tag: str,
    progress: Progress,
    now: int | None = None,
) -> dict[str, int]:
    """Play the plan against the lab Stripe; returns counts of what was done."""
    now = now or int(time.time())
    actions = plan_actions(months, customers, seed, now)
    starts = month_starts(months, now)
    stripe = LabStripe(api_base, api_key, f"sim-{run_tag}")
    people = [SimCustomer(i) for i in range(customers)]
    done: dict[str, int] = {}
    try:
        clock = await stripe.call(
            "POST", "/v1/test_helpers/test_clocks",
            {"frozen_time": starts[0], "name": f"Simulación {run_tag}"},
        )  # fmt: skip
        frozen = int(clock["frozen_time"])
        month = 0
        for action in actions:
            while month + 1 < len(starts) and action.at >= starts[month + 1]:
                month += 1
                await progress(month, months, f"Mes {month + 1} de {months}")
            if action.at > frozen:
                await stripe.call(
                    "POST", f"/v1/test_helpers/test_clocks/{clock['id']}/advance",
                    {"frozen_time": action.at},
                )  # fmt: skip
                frozen = action.at
            if await _apply(stripe, clock["id"], people[action.customer], action, prices, run_tag):
                done[action.kind] = done.get(action.kind, 0) + 1
        end = now - 60
        if end > frozen:
            await stripe.call(
                "POST", f"/v1/test_helpers/test_clocks/{clock['id']}/advance",
                {"frozen_time": end},
            )  # fmt: skip
        await progress(months, months, "Simulación enviada al Stripe del laboratorio")
    finally:
        await stripe.aclose()
    return done


async def _apply(
    stripe: LabStripe,
    clock: str,
    person: SimCustomer,
    action: Action,
    prices: dict[str, tuple[str, str]],
    run_tag: str,
) -> bool:
    """One customer action; False when the story no longer applies (e.g. already gone)."""
    subscription: dict[str, Any] | None = None
    if person.subscription:
        subscription = await stripe.call("GET", f"/v1/subscriptions/{person.subscription}")
    live = subscription is not None and subscription["status"] in ("active", "past_due")
    if action.kind in ("signup", "comeback"):
        if live:
            return False
        if person.stripe_id is None:
            created = await stripe.call("POST", "/v1/customers", {
                "email": f"cliente{person.index + 1:03d}.{run_tag}@simulacion.example",
                "name": f"Empresa simulada {person.index + 1:03d}",
                "metadata": {"simulation": run_tag},
                "payment_method": GOOD_CARD,
                "test_clock": clock,
            })  # fmt: skip
            person.stripe_id = str(created["id"])
        else:
            await _card(stripe, person, GOOD_CARD)
        price = prices[action.plan][0 if action.interval == "month" else 1]
        sub = await stripe.call("POST", "/v1/subscriptions", {
            "customer": person.stripe_id,
            "items": [{"price": price, "quantity": 1}],
            "collection_method": "charge_automatically",
            "metadata": {"plan": action.plan, "simulation": run_tag},
        })  # fmt: skip
        person.subscription, person.item = str(sub["id"]), str(sub["items"]["data"][0]["id"])
        person.plan, person.interval = action.plan, action.interval
        return True
    if not live or subscription is None:
        return False
    if action.kind == "upgrade":
        await stripe.call("POST", f"/v1/subscriptions/{person.subscription}", {
            "items": [{"id": person.item, "price": prices[action.plan][0]}],
            "proration_behavior": "none",
            "metadata": {"plan": action.plan},
        })  # fmt: skip
        person.plan = action.plan
        return True
    if action.kind in ("card_fails", "card_fixed"):
        await _card(stripe, person, FAILING_CARD if action.kind == "card_fails" else GOOD_CARD)
        return True
    if action.kind == "cancel":
        await stripe.call("DELETE", f"/v1/subscriptions/{person.subscription}")
        return True
    return False


async def _card(stripe: LabStripe, person: SimCustomer, card: str) -> None:
    await stripe.call("POST", f"/v1/customers/{person.stripe_id}", {
        "invoice_settings": {"default_payment_method": card},
    })  # fmt: skip


async def wait_until(
    check: Callable[[], Awaitable[bool]], *, timeout: float, interval: float = 0.5
) -> bool:
    """Poll ``check`` until it holds or ``timeout`` seconds pass (bounded, never a spin)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return True
        await asyncio.sleep(interval)
    return await check()
