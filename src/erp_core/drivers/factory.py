"""The one vendor seam: every concrete driver the domains use is built here.

Domains see only the capability Protocols in `drivers/base.py` (Odoo, tunnels, cluster,
billing) and `drivers/store.py` (backup store); this is the one place that knows which
concrete driver serves which server or setting, so adding a vendor touches `drivers/` only.

Lifecycle policy (one for every vendor): a factory call returns a driver the caller may use
for one unit of work and may `aclose()` when done. Anything costly to build (HTTP connection
pools, SDK clients) is cached per `AppContext` in `ctx.extras`, keyed by the settings that
shape it, and closed with the context (`ctx.closers`); a caller's `aclose()` on such a shared
driver is a no-op. A factory returns None when its vendor is not configured.

SDK imports are paid here at import time (process start), never inside a request or a step.
"""

from __future__ import annotations

from typing import Any, cast

import httpx

from erp_core.config import Settings
from erp_core.context import AppContext
from erp_core.drivers.base import (
    BillingGateway,
    ClusterManager,
    OdooDatabaseManager,
    PermanentDriverError,
    TunnelRouter,
)
from erp_core.drivers.cloudflare import CloudflareManager, preload_sdk
from erp_core.drivers.odoo import OdooRpcManager, cookieless_client
from erp_core.drivers.odoo_host import OdooHostManager, SshTarget
from erp_core.drivers.proxmox import ProxmoxManager
from erp_core.drivers.s3_store import S3BackupStore
from erp_core.drivers.ssh import OutputCallback
from erp_core.drivers.store import BackupStore, LocalBackupStore
from erp_core.drivers.stripe import StripeGateway
from erp_core.models import OdooServer

# The Cloudflare SDK resolves its resources lazily (~1 s of imports on first access).
preload_sdk()


def odoo_for(
    ctx: AppContext, server: OdooServer, *, on_output: OutputCallback | None = None
) -> OdooDatabaseManager:
    """The server's manager: JSON-RPC (``rpc``) or SSH + Odoo's CLI (``host``, issue 10).

    ``on_output`` receives ``(stream, line)`` of host-mode commands as they run (the job
    log); the RPC driver has no such output and ignores it.
    """
    if server.mode == "host":
        if not server.ssh_host:
            raise PermanentDriverError(
                f"El servidor «{server.name}» está en modo host pero no tiene host SSH."
            )
        key = ctx.secret_box.decrypt(server.ssh_key_enc) if server.ssh_key_enc else None
        target = SshTarget(
            host=server.ssh_host,
            port=server.ssh_port or 22,
            user=server.ssh_user or "root",
            private_key=key,
            known_hosts=server.known_hosts or None,
        )
        return OdooHostManager(
            target,
            odoo_bin=server.odoo_bin or "odoo-bin",
            odoo_conf=server.odoo_conf or "/etc/odoo/odoo.conf",
            pct_vmid=server.pct_vmid,
            run_as=server.odoo_user,
            custom_create_script=server.custom_create_script,
            internal_url=server.internal_url or server.url,
            timeout=ctx.settings.odoo_timeout_seconds,
            slow_timeout=ctx.settings.odoo_create_timeout_seconds,
            on_output=on_output,
        )

    return OdooRpcManager(
        server.url,
        ctx.secret_box.decrypt(server.master_password_enc),
        timeout=ctx.settings.odoo_timeout_seconds,
        slow_timeout=ctx.settings.odoo_create_timeout_seconds,
        client=odoo_http(ctx),
        base_domain=ctx.settings.base_domain,
    )


def cloudflare_for(ctx: AppContext) -> TunnelRouter | None:
    """The tunnel/DNS driver, or None when Cloudflare is not configured.

    One client per process and configuration (building the SDK client costs tens of
    milliseconds): callers still call `aclose()`, which leaves the shared client open; the
    context closes it at shutdown.
    """
    settings = ctx.settings
    if not settings.cloudflare_configured:
        return None
    assert settings.cloudflare_api_token and settings.cloudflare_account_id
    assert settings.cloudflare_zone_id
    key = (
        "cloudflare",
        settings.cloudflare_api_token,
        settings.cloudflare_account_id,
        settings.cloudflare_zone_id,
        settings.cloudflare_api_base,
    )
    manager = ctx.extras.get(key)
    if manager is None:
        manager = CloudflareManager(
            settings.cloudflare_api_token,
            account_id=settings.cloudflare_account_id,
            zone_id=settings.cloudflare_zone_id,
            base_url=settings.cloudflare_api_base,
        )
        ctx.extras[key] = manager
        ctx.closers.append(manager.aclose)
    return cast(TunnelRouter, _Shared(manager))


class _Shared:
    """A shared driver handed to one caller: everything but `aclose()` goes through."""

    def __init__(self, inner: object) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def aclose(self) -> None:
        """Shared: closed with the context, not by each caller."""


def odoo_http(ctx: AppContext) -> httpx.AsyncClient:
    """The process's HTTP client for Odoo servers (keep-alive connections, one pool)."""
    client = ctx.extras.get("odoo_http")
    if not isinstance(client, httpx.AsyncClient) or client.is_closed:
        client = cookieless_client(
            timeout=httpx.Timeout(ctx.settings.odoo_timeout_seconds),
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
        )
        ctx.extras["odoo_http"] = client
        ctx.closers.append(client.aclose)
    return client


def public_hostname(ctx: AppContext, subdomain: str) -> str:
    return f"{subdomain}.{ctx.settings.base_domain}"


def public_url(ctx: AppContext, subdomain: str) -> str:
    return f"https://{public_hostname(ctx, subdomain)}"


def gateway_for(ctx: AppContext) -> BillingGateway | None:
    """The Stripe driver for this process, or None when Stripe is not configured."""
    settings = ctx.settings
    if not settings.stripe_configured:
        return None
    assert settings.stripe_secret_key
    return StripeGateway(settings.stripe_secret_key, api_base=settings.stripe_api_base)


def cluster_for(ctx: AppContext) -> ClusterManager | None:
    """The Proxmox driver from settings, or None when Proxmox is not configured."""
    settings = ctx.settings
    if not settings.proxmox_configured:
        return None
    assert settings.proxmox_host and settings.proxmox_token_id and settings.proxmox_token_secret
    verify: bool | str = settings.proxmox_verify_ssl
    if verify and settings.proxmox_ca_bundle:
        verify = settings.proxmox_ca_bundle
    return ProxmoxManager(
        settings.proxmox_host,
        settings.proxmox_token_id,
        settings.proxmox_token_secret,
        verify_ssl=verify,
        timeout=settings.proxmox_timeout_seconds,
        task_timeout=settings.proxmox_task_timeout_seconds,
        poll_interval=settings.proxmox_task_poll_seconds,
    )


def store_for(settings: Settings, name: str | None = None) -> BackupStore:
    """The store named ``name`` (a backup row's ``store``), or the configured one.

    Takes settings rather than the context: the backup CLI and the retention sweeper build
    stores without a running context. Stores hold no connections between calls.
    """
    chosen = (name or settings.backup_store or "local").lower()
    if chosen == "s3":
        return S3BackupStore(
            settings.backup_s3_bucket,
            settings.backup_s3_endpoint_url,
            settings.backup_s3_prefix,
            region=settings.backup_s3_region,
            access_key_id=settings.backup_s3_access_key_id,
            secret_access_key=settings.backup_s3_secret_access_key,
        )
    return LocalBackupStore(settings.effective_backup_dir)
