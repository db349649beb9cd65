"""`erp-core serve --lab`: start the vendor emulators on loopback and point settings at them.

The lab is the only place emulators run outside tests; the health endpoint reports it and the
UI shows the "Modo laboratorio" banner. Credentials here are random per start, never fixed.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

from erp_core.config import Settings
from erp_core.lab import (
    LabStack,
    ProxmoxLab,
    StripeLabHandle,
    start_lab_stack,
    start_proxmox_lab,
    start_stripe_lab,
)
from erp_core.lab.mail_sink import MailSink, MailSinkServer

log = logging.getLogger(__name__)


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


def start_stripe_for_lab(settings: Settings, stack: LabStack) -> StripeLabHandle:
    url = f"http://{settings.erp_core_host}:{settings.erp_core_port}/api/webhooks/stripe"
    handle = start_stripe_lab(webhook_url=url, faults=stack.faults)
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
