"""Build the vendor drivers for a job from settings and the server registry.

The domain sees only the Protocols in drivers/base.py; this is the one place that knows
which concrete driver serves which server.
"""

from __future__ import annotations

from erp_core.context import AppContext
from erp_core.drivers.base import OdooDatabaseManager, TunnelRouter
from erp_core.models import OdooServer


def _preload() -> None:
    """Pay the vendor SDKs' import cost at process start, not inside a request or a step."""
    from erp_core.drivers.cloudflare import preload_sdk

    preload_sdk()


_preload()


def odoo_for(ctx: AppContext, server: OdooServer) -> OdooDatabaseManager:
    from erp_core.drivers.odoo import OdooRpcManager

    return OdooRpcManager(
        server.url,
        ctx.secret_box.decrypt(server.master_password_enc),
        timeout=ctx.settings.odoo_timeout_seconds,
        slow_timeout=ctx.settings.odoo_create_timeout_seconds,
    )


def cloudflare_for(ctx: AppContext) -> TunnelRouter | None:
    """The tunnel/DNS driver, or None when Cloudflare is not configured."""
    settings = ctx.settings
    if not settings.cloudflare_configured:
        return None
    from erp_core.drivers.cloudflare import CloudflareManager

    assert settings.cloudflare_api_token and settings.cloudflare_account_id
    assert settings.cloudflare_zone_id
    return CloudflareManager(
        settings.cloudflare_api_token,
        account_id=settings.cloudflare_account_id,
        zone_id=settings.cloudflare_zone_id,
        base_url=settings.cloudflare_api_base,
    )


def public_hostname(ctx: AppContext, subdomain: str) -> str:
    return f"{subdomain}.{ctx.settings.base_domain}"


def public_url(ctx: AppContext, subdomain: str) -> str:
    return f"https://{public_hostname(ctx, subdomain)}"
