"""`erp-core serve --lab`: start the vendor emulators on loopback and point settings at them.

The lab is the only place emulators run outside tests; the health endpoint reports it and the
UI shows the "Modo laboratorio" banner. Credentials here are random per start, never fixed.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

from erp_core.config import Settings
from erp_core.lab import LabStack, StripeLabHandle, start_lab_stack, start_stripe_lab

log = logging.getLogger(__name__)


@dataclass
class LabRuntime:
    stack: LabStack
    stripe: StripeLabHandle | None = None  # billing (issue 5)

    @property
    def edge_url(self) -> str:
        return self.stack.edge.url

    def describe(self) -> dict[str, str]:
        return {
            "odoo": self.stack.odoo.url,
            "cloudflare": self.stack.cloudflare_base_url,
            "edge": self.stack.edge.url,
            **({"stripe": self.stripe.api_base} if self.stripe else {}),
        }

    def stop(self) -> None:
        if self.stripe:
            self.stripe.stop()
        self.stack.stop()


def start_lab(settings: Settings) -> LabRuntime:
    """Start the lab and rewrite `settings` so every driver talks to it."""
    master = secrets.token_urlsafe(24)
    token = secrets.token_urlsafe(32)
    stack = start_lab_stack(
        master_password=master, cloudflare_token=token, base_domain=settings.base_domain
    )
    point_settings_at_lab(settings, stack, master, token)
    runtime = LabRuntime(stack)
    runtime.stripe = start_stripe_for_lab(settings, stack)  # billing (issue 5)
    log.info("lab started", extra=runtime.describe())
    return runtime


def point_settings_at_lab(settings: Settings, stack: LabStack, master: str, token: str) -> None:
    """Every vendor setting aimed at the running lab (also used by the test suite)."""
    cf = stack.cloudflare_state
    settings.odoo_url = stack.odoo.url
    settings.odoo_master_password = master
    settings.cloudflare_api_token = token
    settings.cloudflare_account_id = cf.account_id
    settings.cloudflare_zone_id = cf.zone_id
    settings.cloudflare_tunnel_id = stack.tunnel_ids[0]
    settings.cloudflare_api_base = stack.cloudflare_base_url
    settings.erp_core_public_check_via = stack.edge.url


# --- billing (issue 5): the Stripe emulator sends its signed webhooks to this process ---


def start_stripe_for_lab(settings: Settings, stack: LabStack) -> StripeLabHandle:
    url = f"http://{settings.erp_core_host}:{settings.erp_core_port}/api/webhooks/stripe"
    handle = start_stripe_lab(webhook_url=url, faults=stack.faults)
    settings.stripe_secret_key = handle.api_key
    settings.stripe_webhook_secret = handle.webhook_secret
    settings.stripe_api_base = handle.api_base
    return handle
