"""Portal fixtures: Stripe aimed at the Stripe emulator and SMTP at a real aiosmtpd sink on
loopback (session-scoped servers, state reset per test)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.billing.stripe_events import WEBHOOK_SECRET

from erp_core.config import Settings
from erp_core.lab import StripeLabHandle, start_stripe_lab
from erp_core.lab.mail_sink import MailSinkServer


@pytest.fixture(scope="session")
def stripe_lab() -> Iterator[StripeLabHandle]:
    handle = start_stripe_lab(webhook_secret=WEBHOOK_SECRET)
    yield handle
    handle.stop()


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[MailSinkServer]:
    server = MailSinkServer()
    yield server
    server.stop()


@pytest.fixture
def settings(
    settings: Settings, stripe_lab: StripeLabHandle, smtp_server: MailSinkServer
) -> Settings:
    stripe_lab.state.reset()
    smtp_server.sink.clear()
    settings.stripe_secret_key = stripe_lab.api_key
    settings.stripe_webhook_secret = WEBHOOK_SECRET
    settings.stripe_api_base = stripe_lab.api_base
    settings.smtp_host = smtp_server.host
    settings.smtp_port = smtp_server.port
    settings.smtp_starttls = False
    return settings
