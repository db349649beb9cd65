"""The Stripe driver for this process, or None when Stripe is not configured."""

from __future__ import annotations

from erp_core.context import AppContext
from erp_core.drivers.base import BillingGateway


def gateway_for(ctx: AppContext) -> BillingGateway | None:
    settings = ctx.settings
    if not settings.stripe_configured:
        return None
    from erp_core.drivers.stripe import StripeGateway

    assert settings.stripe_secret_key
    return StripeGateway(settings.stripe_secret_key, api_base=settings.stripe_api_base)
