"""HTTP emulators of the vendors, for tests and ``erp-core serve --lab``.

Each emulator is a plain ASGI app built by a factory (``create_odoo_lab``,
``create_cloudflare_lab``, ``create_edge``) and served on loopback by :class:`LabServer`.
:func:`start_lab_stack` wires the usual trio with one shared :class:`FaultPlan`.
Nothing here is imported by production code paths outside ``--lab``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from erp_core.lab import persist
from erp_core.lab.cloudflare import CloudflareLabState, create_cloudflare_lab
from erp_core.lab.edge import create_edge
from erp_core.lab.faults import ALWAYS, FaultPlan
from erp_core.lab.odoo import OdooLabState, create_odoo_lab
from erp_core.lab.proxmox import create_proxmox_lab
from erp_core.lab.proxmox_state import ProxmoxLabState
from erp_core.lab.server import LabServer
from erp_core.lab.stripe import StripeLabState, create_stripe_lab

log = logging.getLogger(__name__)

__all__ = [
    "ALWAYS",
    "CloudflareLabState",
    "FaultPlan",
    "LabServer",
    "LabStack",
    "OdooLabState",
    "ProxmoxLab",
    "ProxmoxLabState",
    "StripeLabHandle",
    "create_cloudflare_lab",
    "create_edge",
    "create_odoo_lab",
    "start_lab_stack",
    "start_proxmox_lab",
    "start_stripe_lab",
]


@dataclass
class LabStack:
    """A running Odoo emulator, Cloudflare emulator and edge sharing one fault plan."""

    faults: FaultPlan
    odoo: LabServer
    odoo_state: OdooLabState
    cloudflare: LabServer
    cloudflare_state: CloudflareLabState
    edge: LabServer
    tunnel_ids: list[str] = field(default_factory=list)

    @property
    def cloudflare_base_url(self) -> str:
        """What to pass as the Cloudflare SDK's ``base_url``."""
        return f"{self.cloudflare.url}/client/v4"

    def stop(self) -> None:
        for server in (self.edge, self.cloudflare, self.odoo):
            server.stop()


def start_lab_stack(
    *,
    master_password: str,
    cloudflare_token: str,
    base_domain: str = "sajet.us",
    odoo_version: str = "17.0",
    tunnel_names: tuple[str, ...] = ("lab-tunnel",),
    persist_dir: Path | None = None,
) -> LabStack:
    """Start the three servers on free loopback ports; call ``stop()`` when done.

    With `persist_dir` (``make run``: var/lab) the Odoo and Cloudflare emulators keep their
    state across restarts (see `lab/persist.py`).
    """
    faults = FaultPlan()
    odoo_app = create_odoo_lab(master_password, odoo_version, base_domain, faults=faults)
    cloudflare_app = create_cloudflare_lab(cloudflare_token, zone_name=base_domain, faults=faults)
    cloudflare_state: CloudflareLabState = cloudflare_app.state.lab
    snapshot = persist.Snapshot(persist_dir / "lab-state.json") if persist_dir else None
    saved = snapshot.load() if snapshot else None
    if saved:
        persist.load_cloudflare(cloudflare_state, saved.get("cloudflare") or {})
        persist.load_odoo(odoo_app.state.lab, saved.get("odoo") or {})
    by_name = {t["name"]: i for i, t in cloudflare_state.tunnels.items() if not t["deleted_at"]}
    tunnel_ids = [by_name.get(name) or cloudflare_state.add_tunnel(name) for name in tunnel_names]
    edge_app = create_edge(cloudflare_state, tunnel_ids, base_domain)
    odoo_asgi: Any = odoo_app
    cloudflare_asgi: Any = cloudflare_app
    urls: dict[str, str] = {}
    if snapshot:

        def save() -> None:
            assert snapshot is not None
            snapshot.save(
                {
                    "odoo_url": urls.get("odoo", ""),
                    "odoo": persist.dump_odoo(odoo_app.state.lab),
                    "cloudflare": persist.dump_cloudflare(cloudflare_state),
                }
            )

        odoo_asgi = persist.save_after_writes(odoo_app, save)
        cloudflare_asgi = persist.save_after_writes(cloudflare_app, save)
    odoo = LabServer(odoo_asgi).start()
    urls["odoo"] = odoo.url
    if saved and saved.get("odoo_url"):  # routes named the previous run's Odoo port
        with cloudflare_state.lock:
            fixed = persist.rewrite_urls(
                cloudflare_state.configurations, saved["odoo_url"], odoo.url
            )
            cloudflare_state.configurations.clear()
            cloudflare_state.configurations.update(fixed)
    cloudflare = LabServer(cloudflare_asgi).start()
    edge = LabServer(edge_app).start()
    return LabStack(
        faults=faults,
        odoo=odoo,
        odoo_state=odoo_app.state.lab,
        cloudflare=cloudflare,
        cloudflare_state=cloudflare_state,
        edge=edge,
        tunnel_ids=tunnel_ids,
    )


# --- Stripe (issue 5) -------------------------------------------------------------------


@dataclass
class StripeLabHandle:
    """A running Stripe emulator: its server, state, and the keys it accepts."""

    server: LabServer
    state: StripeLabState
    api_key: str
    webhook_secret: str
    faults: FaultPlan

    @property
    def api_base(self) -> str:
        return self.server.url

    def stop(self) -> None:
        self.server.stop()


def start_stripe_lab(
    *,
    api_key: str | None = None,
    webhook_secret: str | None = None,
    webhook_url: str | None = None,
    faults: FaultPlan | None = None,
    port: int = 0,
) -> StripeLabHandle:
    """Start the Stripe emulator on a free loopback port (random test-mode keys by default).

    ``webhook_url`` (the control plane's ``/api/webhooks/stripe``) receives signed events.
    """
    import secrets

    key = api_key or f"sk_test_lab_{secrets.token_hex(12)}"
    secret = webhook_secret or f"whsec_{secrets.token_hex(16)}"
    plan = faults or FaultPlan()
    app = create_stripe_lab(key, secret, faults=plan)
    state: StripeLabState = app.state.lab
    state.webhook_url = webhook_url
    server = _start_on(app, port)
    state.public_base = server.url  # hosted invoice pages live at the emulator's address
    return StripeLabHandle(server, state, key, secret, plan)


def _start_on(app: Any, port: int) -> LabServer:
    """Start on ``port`` (the one an earlier `serve --lab` used, so stored invoice links
    still open), or on a free one when it is taken or not asked for."""
    if port:
        try:
            return LabServer(app, port=port).start()
        except OSError:
            log.info("lab stripe port %s is taken; using a free one", port)
    return LabServer(app).start()


# --- Proxmox lab (issue 4) ------------------------------------------------------------------


@dataclass
class ProxmoxLab:
    """A running Proxmox emulator (HTTPS) and its state; containers run their own lab Odoo."""

    server: LabServer
    state: ProxmoxLabState
    faults: FaultPlan

    @property
    def host(self) -> str:
        """What to put in PROXMOX_HOST (``127.0.0.1:port``)."""
        return f"127.0.0.1:{self.server.port}"

    @property
    def ca_bundle(self) -> str:
        """The emulator's self-signed certificate, for PROXMOX_CA_BUNDLE."""
        assert self.server.cert_path is not None
        return str(self.server.cert_path)

    def stop(self) -> None:
        self.state.reset()  # stops every container's Odoo
        self.server.stop()


def free_loopback_port() -> int:
    """A port free on 127.0.0.1 right now (the lab's ODOO_CONTAINER_PORT)."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_proxmox_lab(
    *,
    token_id: str,
    token_secret: str,
    template_master_password: str,
    odoo_port: int | None = None,
    nodes: tuple[str, ...] = ("pve1", "pve2"),
    template_vmid: int = 9000,
    base_domain: str = "sajet.us",
    faults: FaultPlan | None = None,
    task_delay_s: float = 0.05,
) -> ProxmoxLab:
    """Start the Proxmox emulator on a free loopback port over HTTPS; ``stop()`` when done."""

    plan = faults or FaultPlan()
    state = ProxmoxLabState(
        token_id=token_id,
        token_secret=token_secret,
        template_master_password=template_master_password,
        odoo_port=odoo_port or free_loopback_port(),
        nodes=nodes,
        template_vmid=template_vmid,
        base_domain=base_domain,
        task_delay_s=task_delay_s,
    )
    server = LabServer(create_proxmox_lab(state, faults=plan), https=True).start()
    return ProxmoxLab(server=server, state=state, faults=plan)
