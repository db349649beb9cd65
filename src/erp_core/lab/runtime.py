"""`erp-core serve --lab`: start the vendor emulators on loopback and point settings at them.

The lab is the only place emulators run outside tests; the health endpoint reports it and the
UI shows the "Modo laboratorio" banner. Credentials here are random per start, never fixed,
except the lab Stripe's test key and webhook secret: those are generated once per var/ folder
(``var/keys/lab_stripe.json``, never committed) so a newcomer can script against the lab's
Stripe across restarts. At start the plans are priced in the lab Stripe (see
:func:`price_lab_plans`).
"""

from __future__ import annotations

import json
import logging
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from erp_core.config import Settings
from erp_core.drivers.factory import gateway_for
from erp_core.lab import (
    LabStack,
    ProxmoxLab,
    StripeLabHandle,
    start_lab_stack,
    start_proxmox_lab,
    start_stripe_lab,
)
from erp_core.lab.mail_sink import MailSink, MailSinkServer

if TYPE_CHECKING:
    from erp_core.context import AppContext

log = logging.getLogger(__name__)

# The lab's price list in minor units of BILLING_CURRENCY: (monthly, yearly). A lab-only
# list, standing in for the prices an operator creates in Stripe's dashboard in production.
LAB_PRICES: dict[str, tuple[int, int]] = {
    "basic": (2_900, 29_000),
    "pro": (7_900, 79_000),
    "enterprise": (19_900, 199_000),
}


@dataclass
class LabRuntime:
    stack: LabStack
    stripe: StripeLabHandle | None = None  # billing (issue 5)
    proxmox: ProxmoxLab | None = None  # dedicated containers (issue 4)
    smtp: MailSinkServer | None = None  # customer portal e-mail (issue 16)

    @property
    def mail(self) -> MailSink | None:
        """What `GET /api/lab/mail` reads."""
        return self.smtp.sink if self.smtp else None

    stripe_state_path: Path | None = None  # the lab Stripe account kept across restarts

    @property
    def edge_url(self) -> str:
        return self.stack.edge.url

    def describe(self) -> dict[str, str]:
        return {
            "odoo": self.stack.odoo.url,
            "cloudflare": self.stack.cloudflare_base_url,
            "edge": self.stack.edge.url,
            **({"stripe": self.stripe.api_base} if self.stripe else {}),
            **({"proxmox": self.proxmox.host} if self.proxmox else {}),
            **({"smtp": f"{self.smtp.host}:{self.smtp.port}"} if self.smtp else {}),
        }

    def stop(self) -> None:
        if self.smtp:
            self.smtp.stop()
        if self.proxmox:
            self.proxmox.stop()
        if self.stripe:
            self.stripe.stop()
            if self.stripe_state_path is not None:
                save_lab_stripe_state(self.stripe, self.stripe_state_path)
        self.stack.stop()


def start_lab(settings: Settings) -> LabRuntime:
    """Start the lab and rewrite `settings` so every driver talks to it."""
    master = secrets.token_urlsafe(24)
    token = secrets.token_urlsafe(32)
    stack = start_lab_stack(
        master_password=master,
        cloudflare_token=token,
        base_domain=settings.base_domain,
        persist_dir=settings.var_dir / "lab",  # emulators outlive a restart, like the DB
    )
    point_settings_at_lab(settings, stack, master, token)
    runtime = LabRuntime(stack)
    runtime.stripe = start_stripe_for_lab(settings, stack)  # billing (issue 5)
    runtime.stripe_state_path = lab_stripe_state_path(settings.var_dir)
    runtime.proxmox = start_proxmox_for_lab(settings, stack)  # dedicated containers (issue 4)
    runtime.smtp = start_smtp_for_lab(settings)  # customer portal e-mail (issue 16)
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


def lab_stripe_state_path(var_dir: Path) -> Path:
    return var_dir / "lab" / "stripe_state.json"


def save_lab_stripe_state(handle: StripeLabHandle, path: Path) -> None:
    """Keep the lab Stripe account (customers, subscriptions, prices, events) for the next
    start: the database remembers Stripe ids, so the lab must too, or a restart would leave
    every customer pointing at an object the lab no longer knows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.touch(mode=0o600)
    tmp = path.with_suffix(".tmp")
    tmp.touch(mode=0o600)
    tmp.write_text(json.dumps({**handle.state.dump(), "port": handle.server.port}))
    tmp.replace(path)


def lab_stripe_keys(var_dir: Path) -> tuple[str, str]:
    """The lab Stripe's test key and webhook secret for this var/ folder (made once, 0600).

    Test-mode shaped (``sk_test_lab_…``, ``whsec_…``) and random per folder: they open only
    the loopback emulator, never a real account.
    """
    path = var_dir / "keys" / "lab_stripe.json"
    if path.exists():
        stored = json.loads(path.read_text())
        return str(stored["api_key"]), str(stored["webhook_secret"])
    api_key = f"sk_test_lab_{secrets.token_hex(12)}"
    webhook_secret = f"whsec_{secrets.token_hex(16)}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(json.dumps({"api_key": api_key, "webhook_secret": webhook_secret}))
    return api_key, webhook_secret


async def price_lab_plans(ctx: AppContext) -> dict[str, tuple[str, str]]:
    """Create each plan's monthly and yearly price in the lab Stripe through the real driver,
    then map them with the same service as ``PUT /api/billing/plans/{code}`` (which checks
    each price with Stripe and copies its amount). Idempotent: the idempotency keys make a
    second call reuse the prices of this lab run."""
    # cycle: the app context imports lab.runtime, and billing.service imports the context.
    from erp_core.billing import schemas as billing_schemas, service as billing_service  # noqa: I001

    gateway = gateway_for(ctx)
    if gateway is None:
        return {}
    currency = ctx.settings.billing_currency
    mapped: dict[str, tuple[str, str]] = {}
    try:
        for code, (monthly, yearly) in LAB_PRICES.items():
            ids = []
            for interval, amount in (("month", monthly), ("year", yearly)):
                price = await gateway.create_price(
                    product_name=f"Plan {code}",
                    unit_amount=amount,
                    currency=currency,
                    interval=interval,
                    idempotency_key=f"lab-price-{code}-{interval}-{currency}",
                    metadata={"plan": code},
                )
                ids.append(price.id)
            mapped[code] = (ids[0], ids[1])
    finally:
        await gateway.aclose()
    async with ctx.db.sessionmaker() as session:
        for code, (monthly_id, yearly_id) in mapped.items():
            body = billing_schemas.PlanUpdate(
                stripe_price_monthly_id=monthly_id, stripe_price_yearly_id=yearly_id
            )
            await billing_service.update_plan(session, ctx, code, body)
        await session.commit()
    log.info("lab plans priced", extra={"plans": sorted(mapped)})
    return mapped


def price_lab_plans_sync(settings: Settings) -> None:
    """:func:`price_lab_plans` from the CLI, before the server starts (migrations applied)."""
    import asyncio

    # cycle: composition imports the lab's routes, which import this module.
    from erp_core.composition import build_context

    async def run() -> None:
        ctx = build_context(settings)
        try:
            await price_lab_plans(ctx)
        finally:
            await ctx.close()

    asyncio.run(run())


def start_stripe_for_lab(settings: Settings, stack: LabStack) -> StripeLabHandle:
    url = f"http://{settings.erp_core_host}:{settings.erp_core_port}/api/webhooks/stripe"
    api_key, webhook_secret = lab_stripe_keys(settings.var_dir)
    saved = lab_stripe_state_path(settings.var_dir)
    data: dict[str, Any] = {}
    if saved.exists():
        try:
            data = dict(json.loads(saved.read_text()))
        except (OSError, ValueError, TypeError):
            log.warning("lab stripe state unreadable; starting an empty account")
    handle = start_stripe_lab(
        api_key=api_key,
        webhook_secret=webhook_secret,
        webhook_url=url,
        faults=stack.faults,
        port=int(data.get("port") or 0),  # the same address keeps stored invoice links live
    )
    handle.state.pay_sent_invoices = True  # a newcomer sees invoices issued *and* paid
    if data:
        try:
            handle.state.load(data)
        except (ValueError, TypeError, KeyError):
            log.warning("lab stripe state unreadable; starting an empty account")
    settings.stripe_secret_key = handle.api_key
    settings.stripe_webhook_secret = handle.webhook_secret
    settings.stripe_api_base = handle.api_base
    return handle


# --- Proxmox (issue 4): a two-node cluster whose containers each run a lab Odoo ---


def start_proxmox_for_lab(settings: Settings, stack: LabStack) -> ProxmoxLab:
    token_id, secret, template_master = (
        "erp-core@pve!lab",
        secrets.token_urlsafe(24),
        secrets.token_urlsafe(24),
    )
    pve = start_proxmox_lab(
        token_id=token_id,
        token_secret=secret,
        template_master_password=template_master,
        base_domain=settings.base_domain,
        faults=stack.faults,
    )
    settings.proxmox_host = pve.host
    settings.proxmox_token_id = token_id
    settings.proxmox_token_secret = secret
    settings.proxmox_verify_ssl = True
    settings.proxmox_ca_bundle = pve.ca_bundle
    settings.proxmox_template_vmid = pve.state.template_vmid
    settings.proxmox_storage = "local-lvm"
    settings.proxmox_ip_pool = "127.0.0.20-127.0.0.250"  # loopback only, never a private range
    settings.proxmox_ip_prefix = 8
    settings.proxmox_gateway = "127.0.0.1"
    settings.proxmox_node_tunnels = ",".join(
        f"{n}={stack.tunnel_ids[0]}" for n in pve.state.node_names
    )
    settings.odoo_container_port = pve.state.odoo_port
    settings.odoo_template_master_password = template_master
    return pve


# --- customer portal (issue 16): an SMTP sink on loopback; mail is read at GET /api/lab/mail ---


def start_smtp_for_lab(settings: Settings) -> MailSinkServer:
    server = MailSinkServer()
    settings.smtp_host = server.host
    settings.smtp_port = server.port
    settings.smtp_username = None
    settings.smtp_password = None
    settings.smtp_starttls = False
    return server
