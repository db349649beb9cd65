"""Build the vendor drivers for a job from settings and the server registry.

The domain sees only the Protocols in drivers/base.py; this is the one place that knows
which concrete driver serves which server.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import httpx

from erp_core.context import AppContext
from erp_core.drivers.base import OdooDatabaseManager, TunnelRouter
from erp_core.models import OdooServer

if TYPE_CHECKING:
    from erp_core.drivers.ssh import OutputCallback


def _preload() -> None:
    """Pay the vendor SDKs' import cost at process start, not inside a request or a step."""
    import erp_core.drivers.proxmox
    import erp_core.drivers.stripe  # noqa: F401  (the SDK imports are the cost)
    from erp_core.drivers.cloudflare import preload_sdk

    preload_sdk()


_preload()


def odoo_for(
    ctx: AppContext, server: OdooServer, *, on_output: OutputCallback | None = None
) -> OdooDatabaseManager:
    """The server's manager: JSON-RPC (``rpc``) or SSH + Odoo's CLI (``host``, issue 10).

    ``on_output`` receives ``(stream, line)`` of host-mode commands as they run (the job
    log); the RPC driver has no such output and ignores it.
    """
    if server.mode == "host":
        from erp_core.drivers.base import PermanentDriverError
        from erp_core.drivers.odoo_host import OdooHostManager, SshTarget

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

    from erp_core.drivers.odoo import OdooRpcManager

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
    from erp_core.drivers.cloudflare import CloudflareManager

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
        client = httpx.AsyncClient(
            timeout=httpx.Timeout(ctx.settings.odoo_timeout_seconds),
            follow_redirects=False,
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
        )
        ctx.extras["odoo_http"] = client
        ctx.closers.append(client.aclose)
    return client


def public_hostname(ctx: AppContext, subdomain: str) -> str:
    return f"{subdomain}.{ctx.settings.base_domain}"


def public_url(ctx: AppContext, subdomain: str) -> str:
    return f"https://{public_hostname(ctx, subdomain)}"
