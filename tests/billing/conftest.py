"""Billing fixtures: Stripe settings aimed at the Stripe emulator, and event builders."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.billing.stripe_events import WEBHOOK_SECRET, Events

from erp_core.config import Settings
from erp_core.lab import StripeLabHandle, start_stripe_lab


@pytest.fixture
def events() -> Events:
    return Events()


@pytest.fixture(scope="session")
def stripe_lab() -> Iterator[StripeLabHandle]:
    handle = start_stripe_lab(webhook_secret=WEBHOOK_SECRET)
    yield handle
    handle.stop()


@pytest.fixture
def settings(settings: Settings, stripe_lab: StripeLabHandle) -> Settings:
    stripe_lab.state.reset()
    settings.stripe_secret_key = stripe_lab.api_key
    settings.stripe_webhook_secret = WEBHOOK_SECRET
    settings.stripe_api_base = stripe_lab.api_base
    return settings
