"""Helpers shared by the portal tests: lab prices, webhook forwarding, link tokens."""

from __future__ import annotations

import re
from typing import Any

import httpx

from erp_core.lab import StripeLabHandle

TOKEN_RE = re.compile(r"token=([A-Za-z0-9_\-]+)")


async def lab_price(stripe_lab: StripeLabHandle, amount: int, name: str) -> str:
    async with httpx.AsyncClient(base_url=stripe_lab.api_base) as lab:
        response = await lab.post(
            "/v1/prices",
            data={
                "currency": "usd",
                "unit_amount": str(amount),
                "recurring[interval]": "month",
                "product_data[name]": name,
            },
            headers={"Authorization": f"Bearer {stripe_lab.api_key}"},
        )
        assert response.status_code == 200
        return str(response.json()["id"])


async def forward_webhooks(
    client: httpx.AsyncClient, stripe_lab: StripeLabHandle, start: int
) -> int:
    """Deliver the lab's signed webhooks to the control plane, as Stripe would."""
    deliveries = stripe_lab.state.deliveries
    for delivery in deliveries[start:]:
        response = await client.post(
            "/api/webhooks/stripe",
            content=delivery["body"].encode(),
            headers={"Stripe-Signature": delivery["signature"], "Content-Type": "application/json"},
        )
        assert response.status_code == 200, response.text
    return len(deliveries)


def link_token(message: dict[str, Any]) -> str:
    match = TOKEN_RE.search(message["text"])
    assert match, message["text"]
    return match.group(1)
